// Logistic and squared losses: derivatives against central differences, the logistic loss
// finite at extreme margins, and the mean's gradient against central differences.
#include "moesim/model/prediction_loss.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace moesim;

TEST_SUITE("model::PredictionLoss") {
    TEST_CASE("each loss's derivative matches a central difference") {
        for (const std::string& name : model::prediction_loss_names()) {
            const model::PredictionLoss loss = model::parse_prediction_loss(name);
            CHECK(model::to_string(loss) == name);
            for (double y : {-1.0, 1.0, 0.3})
                for (double f : {-7.5, -1.2, 0.0, 0.4, 3.1, 12.0}) {
                    const double h = 1e-6;
                    const double fd =
                        (model::loss_value(loss, f + h, y) - model::loss_value(loss, f - h, y)) /
                        (2 * h);
                    CAPTURE(name);
                    CAPTURE(f);
                    CAPTURE(y);
                    CHECK(model::loss_derivative(loss, f, y) ==
                          doctest::Approx(fd).epsilon(1e-7).scale(1.0));
                }
        }
    }

    TEST_CASE("the logistic loss is log(1 + exp(-y f)) and finite at any margin") {
        using model::PredictionLoss;
        CHECK(model::loss_value(PredictionLoss::logistic, 0.0, 1.0) ==
              doctest::Approx(std::log(2.0)));
        CHECK(model::loss_value(PredictionLoss::logistic, 2.0, -1.0) ==
              doctest::Approx(std::log1p(std::exp(2.0))));
        CHECK(model::loss_value(PredictionLoss::logistic, -800.0, 1.0) == doctest::Approx(800.0));
        CHECK(model::loss_value(PredictionLoss::logistic, 800.0, 1.0) == 0.0);
        CHECK(model::loss_derivative(PredictionLoss::logistic, -800.0, 1.0) == -1.0);
        CHECK(model::loss_derivative(PredictionLoss::logistic, 800.0, 1.0) == 0.0);
        CHECK(model::loss_value(PredictionLoss::squared, 3.0, 1.0) == 4.0);
        CHECK(model::loss_value(PredictionLoss::half_squared, 3.0, 1.0) == 2.0);
    }

    TEST_CASE("mean_loss_gradient is the gradient of mean_loss") {
        Eigen::VectorXd f(4), y(4);
        f << 0.3, -1.2, 2.5, 0.05;
        y << 1, -1, -1, 1;
        for (const std::string& name : model::prediction_loss_names()) {
            const model::PredictionLoss loss = model::parse_prediction_loss(name);
            const Eigen::VectorXd gradient = model::mean_loss_gradient(loss, f, y);
            for (Eigen::Index b = 0; b < f.size(); ++b) {
                const double h = 1e-6;
                Eigen::VectorXd plus = f, minus = f;
                plus(b) += h;
                minus(b) -= h;
                const double fd =
                    (model::mean_loss(loss, plus, y) - model::mean_loss(loss, minus, y)) / (2 * h);
                CAPTURE(name);
                CAPTURE(b);
                CHECK(gradient(b) == doctest::Approx(fd).epsilon(1e-7).scale(1.0));
            }
        }
    }
}
