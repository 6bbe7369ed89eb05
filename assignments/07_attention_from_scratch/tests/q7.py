from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 2

@test_case(points=None, hidden=False)
def test_sqrt_dk_public(dot_product_variance, weight_entropy):
    from shared.testing.attention_from_scratch import check_dot_product_variance, check_same_generator, check_weight_entropy_by_hand
    check_dot_product_variance(dot_product_variance, d_k=1, scale=False, seed=0)
    check_dot_product_variance(dot_product_variance, d_k=64, n=4000, scale=False, seed=1)
    check_dot_product_variance(dot_product_variance, d_k=4, scale=True, seed=2)
    check_same_generator(dot_product_variance, d_k=8, n=500, seed=3)
    check_weight_entropy_by_hand(weight_entropy, shape=(2, 3, 5), seed=4)
    check_weight_entropy_by_hand(weight_entropy, shape=(4, 6), masked=False, seed=5)

