from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 3

@test_case(points=None, hidden=False)
def test_experiment_public(final_acc, gap_shifted, gap_centred, histories, make_cnn, make_mlp, mlp_hidden, train_one_epoch, evaluate, make_loaders, run_experiment):
    from shared.digits import load_digits_data
    from shared.testing.cnn_vs_mlp import check_claim, check_final_numbers, first_failure, upstream_checks
    check_final_numbers(final_acc, gap_shifted, gap_centred, histories)
    checks = upstream_checks(make_cnn, make_mlp, mlp_hidden, train_one_epoch, evaluate, make_loaders, run_experiment, load_digits_data)
    if first_failure(checks) is None:
        check_claim(final_acc, 'the test split', runs='the experiment cell (EPOCHS, LR, which network trains on which digits)')

