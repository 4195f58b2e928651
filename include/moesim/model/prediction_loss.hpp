#pragma once
// Pointwise losses l(f, y) of a scalar prediction f against a label y, averaged over a fixed
// data set: the data term of the mean-field objective of arXiv 2502.05784 (MODELS.md 3.1),
// logistic for the +-1 labels of the circles and squared for the regression. The mean's
// gradient with respect to the predictions is what the particles' gradient needs.
// Users: model/full_batch_langevin, the propagation-of-chaos experiment, tests.

#include <Eigen/Core>

#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

/// l(f, y):
/// - logistic: log(1 + exp(-y f)), labels y in {-1, +1};
/// - squared: (f - y)^2 (so the mean is the MSE the paper reports);
/// - half_squared: (f - y)^2 / 2 (the mfld experiment's convention).
enum class PredictionLoss { logistic, squared, half_squared };

/// Names as written in configs: "logistic", "squared", "half_squared".
std::vector<std::string> prediction_loss_names();
/// Parses a name; throws core::InternalError on an unknown one (configs validate first).
PredictionLoss parse_prediction_loss(std::string_view name);
std::string to_string(PredictionLoss loss);

/// l(f, y), overflow-free for the logistic loss at any |y f|. Local.
double loss_value(PredictionLoss loss, double f, double y);
/// dl/df (f, y). Local.
double loss_derivative(PredictionLoss loss, double f, double y);

/// (1/n) sum_b l(f_b, y_b), summed in b order. Local; `predictions` and `labels` have equal
/// length n >= 1 (throws core::InternalError otherwise).
double mean_loss(PredictionLoss loss, const Eigen::VectorXd& predictions,
                 const Eigen::VectorXd& labels);
/// The gradient of mean_loss with respect to the predictions: l'(f_b, y_b) / n. Local.
Eigen::VectorXd mean_loss_gradient(PredictionLoss loss, const Eigen::VectorXd& predictions,
                                   const Eigen::VectorXd& labels);

} // namespace moesim::model
