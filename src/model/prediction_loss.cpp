#include "moesim/model/prediction_loss.hpp"

#include "moesim/core/error.hpp"

#include <cmath>

namespace moesim::model {

std::vector<std::string> prediction_loss_names() {
    return {"logistic", "squared", "half_squared"};
}

PredictionLoss parse_prediction_loss(std::string_view name) {
    if (name == "logistic")
        return PredictionLoss::logistic;
    if (name == "squared")
        return PredictionLoss::squared;
    if (name == "half_squared")
        return PredictionLoss::half_squared;
    throw core::InternalError("unknown prediction loss '" + std::string(name) + "'");
}

std::string to_string(PredictionLoss loss) {
    switch (loss) {
    case PredictionLoss::logistic:
        return "logistic";
    case PredictionLoss::squared:
        return "squared";
    case PredictionLoss::half_squared:
        return "half_squared";
    }
    return "unknown";
}

double loss_value(PredictionLoss loss, double f, double y) {
    switch (loss) {
    case PredictionLoss::logistic: {
        // softplus(-m) = max(-m, 0) + log1p(exp(-|m|)), m = y f: no overflow at any margin.
        const double margin = y * f;
        return std::max(-margin, 0.0) + std::log1p(std::exp(-std::abs(margin)));
    }
    case PredictionLoss::squared:
        return (f - y) * (f - y);
    case PredictionLoss::half_squared:
        return 0.5 * (f - y) * (f - y);
    }
    return 0.0;
}

double loss_derivative(PredictionLoss loss, double f, double y) {
    switch (loss) {
    case PredictionLoss::logistic: {
        // -y sigmoid(-y f), written with exp of a non-positive argument only.
        const double margin = y * f;
        const double e = std::exp(-std::abs(margin));
        const double sigmoid_minus = margin >= 0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
        return -y * sigmoid_minus;
    }
    case PredictionLoss::squared:
        return 2.0 * (f - y);
    case PredictionLoss::half_squared:
        return f - y;
    }
    return 0.0;
}

double mean_loss(PredictionLoss loss, const Eigen::VectorXd& predictions,
                 const Eigen::VectorXd& labels) {
    core::require(predictions.size() == labels.size() && labels.size() > 0,
                  "mean_loss: predictions and labels must have the same non-zero length");
    double sum = 0.0;
    for (Eigen::Index b = 0; b < labels.size(); ++b)
        sum += loss_value(loss, predictions(b), labels(b));
    return sum / static_cast<double>(labels.size());
}

Eigen::VectorXd mean_loss_gradient(PredictionLoss loss, const Eigen::VectorXd& predictions,
                                   const Eigen::VectorXd& labels) {
    core::require(predictions.size() == labels.size() && labels.size() > 0,
                  "mean_loss_gradient: predictions and labels must have the same non-zero length");
    Eigen::VectorXd gradient(labels.size());
    const double inv_n = 1.0 / static_cast<double>(labels.size());
    for (Eigen::Index b = 0; b < labels.size(); ++b)
        gradient(b) = loss_derivative(loss, predictions(b), labels(b)) * inv_n;
    return gradient;
}

} // namespace moesim::model
