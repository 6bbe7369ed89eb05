from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 4

@test_case(points=None, hidden=False)
def test_sdpa_public(scaled_dot_product_attention):
    from shared.testing.attention_from_scratch import check_causal_gradients, check_permutation, check_sdpa
    check_sdpa(scaled_dot_product_attention, batch=(2,), L_q=3, L_k=4, d_k=5, d_v=2, seed=0)
    check_sdpa(scaled_dot_product_attention, batch=(2, 3), L_q=4, L_k=4, d_k=8, d_v=3, causal=True, seed=1)
    check_sdpa(scaled_dot_product_attention, batch=(3,), L_q=2, L_k=5, d_k=4, d_v=4, masked=True, seed=2)
    check_sdpa(scaled_dot_product_attention, batch=(2,), L_q=3, L_k=6, d_k=4, d_v=3, causal=True, masked='pairs', seed=5)
    check_sdpa(scaled_dot_product_attention, batch=(2,), L_q=4, L_k=3, d_k=2, d_v=2, masked='pairs_empty', seed=6)
    check_permutation(scaled_dot_product_attention, L=5, d=4, seed=3)
    check_causal_gradients(scaled_dot_product_attention, L=5, d=3, seed=4)

