from otter.test_files import test_case

OK_FORMAT = False

name = "q10"
points = 2

@test_case(points=None, hidden=False)
def test_anomaly_public(threshold, test_scores, is_anomaly, anomaly_auc, test_fpr, test_tpr, y_test, ANOMALY, Encoder, Decoder, Autoencoder, lecture_params, compression_ratio, reconstruction_loss, train_autoencoder, reconstruction_error, anomaly_scores, roc_auc, threshold_for_fpr):
    from shared.testing.autoencoder import check_anomaly_claims, check_anomaly_numbers, passes_upstream
    upstream = passes_upstream(q1=(Encoder, Decoder, Autoencoder, lecture_params, compression_ratio), q2=reconstruction_loss, q3=(train_autoencoder, reconstruction_error), q9=(anomaly_scores, roc_auc, threshold_for_fpr))
    check_anomaly_numbers(threshold, test_scores, is_anomaly, anomaly_auc, test_fpr, test_tpr, y_test == ANOMALY, check_auc=upstream)
    if upstream:
        check_anomaly_claims(anomaly_auc, test_fpr, 'the test split')

