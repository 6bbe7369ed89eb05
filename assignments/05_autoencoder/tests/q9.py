from otter.test_files import test_case

OK_FORMAT = False

name = "q9"
points = 4

@test_case(points=None, hidden=False)
def test_anomaly_tools_public(anomaly_scores, roc_auc, threshold_for_fpr):
    from shared.testing.autoencoder import check_anomaly_scores, check_roc_auc, check_threshold
    check_roc_auc(roc_auc, n=40, levels=5, seed=0)
    check_roc_auc(roc_auc, n=25, levels=3, seed=1, as_numpy=True)
    check_threshold(threshold_for_fpr, [3.0, 1.0, 2.0, 5.0, 4.0], 0.2, 4.0)
    check_threshold(threshold_for_fpr, [1.0, 1.0, 1.0, 2.0], 0.0, 2.0)
    check_threshold(threshold_for_fpr, [0.5, 2.0, 2.0, 2.0, 7.0, 1.0], 0.5, 2.0)
    check_anomaly_scores(anomaly_scores, n=6, dim=5, seed=0)

