from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 4

@test_case(points=None, hidden=False)
def test_mha_public(multi_head_attention):
    from shared.testing.attention_from_scratch import check_mha
    check_mha(multi_head_attention, E=8, heads=2, B=3, L_q=4, L_k=4, batch_first=True, seed=0)
    check_mha(multi_head_attention, E=6, heads=3, B=2, L_q=3, L_k=5, batch_first=False, padding=True, average=False, seed=1)
    check_mha(multi_head_attention, E=4, heads=2, B=2, L_q=5, L_k=5, batch_first=True, causal=True, average=False, seed=2)
    check_mha(multi_head_attention, E=8, heads=2, B=2, L_q=4, L_k=5, batch_first=True, attn=True, average=False, seed=3)

