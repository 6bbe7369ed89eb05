from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 4

@test_case(points=None, hidden=False)
def test_jacobian_norms_public(jacobian_norms, growth_rate):
    import math
    from shared.testing.lstm import check_growth_rate, check_jacobian_norms, check_theoretical_rate, geometric, jacobian_case
    check_jacobian_norms(jacobian_norms, jacobian_case(T=6, d_h=4, radius=0.9, seed=0), 'random inputs')
    check_growth_rate(growth_rate, geometric(10, 2.0, 0.5), math.log(0.5), '2 * 0.5^t')
    check_theoretical_rate(jacobian_norms, growth_rate, d_h=5, T=20, radius=0.7, seed=1)

@test_case(points=None, hidden=False)
def test_clip_public(clip_grad_norm):
    from shared.testing.lstm import check_clip
    check_clip(clip_grad_norm, [(3, 4), (4,)], 1.0, scale=10.0, seed=0)
    check_clip(clip_grad_norm, [(2, 2), (2,)], 5.0, scale=0.1, seed=1)

