#include "moesim/model/router_losses.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::model {

namespace {

// Normalised scores q (softmax, or sigmoid over its sum) of one row of logits, in place;
// `sigmoid` receives s_e for the sigmoid's chain rule.
double normalise_scores(double* l, Eigen::Index n_exp, ScoreFunction score, double* sigmoid) {
    double sum = 0.0;
    if (score == ScoreFunction::softmax) {
        const double top = *std::max_element(l, l + n_exp);
        for (Eigen::Index e = 0; e < n_exp; ++e)
            sum += (l[e] = std::exp(l[e] - top));
    } else {
        for (Eigen::Index e = 0; e < n_exp; ++e)
            sum += (l[e] = sigmoid[e] = 1.0 / (1.0 + std::exp(-l[e])));
    }
    for (Eigen::Index e = 0; e < n_exp; ++e)
        l[e] /= sum;
    return sum;
}

} // namespace

RouterLoss switch_aux_loss(std::span<const double> router, const RowMatrix& inputs,
                           Eigen::Index n_exp, Eigen::Index k, ScoreFunction score, double alpha,
                           Eigen::Index block) {
    const Eigen::Index dim = inputs.cols(), batch = inputs.rows();
    const Eigen::Map<const RowMatrix> weights(router.data(), n_exp, dim);
    RouterLoss loss;
    RowMatrix gradient = RowMatrix::Zero(n_exp, dim);
    if (alpha == 0 || batch == 0) {
        loss.gradient.assign(static_cast<std::size_t>(gradient.size()), 0.0);
        return loss;
    }
    // Pass 1: f from a fresh top-k (ties to the lower id) and P, block by block.
    std::vector<double> f(static_cast<std::size_t>(n_exp), 0.0), p(f), s(f);
    RowMatrix q;
    std::vector<RowMatrix> scores;
    std::vector<std::vector<double>> sums;
    std::vector<RowMatrix> sigmoids;
    for (Eigen::Index first = 0; first < batch; first += block) {
        const Eigen::Index rows = std::min(block, batch - first);
        q.noalias() = inputs.middleRows(first, rows) * weights.transpose();
        RowMatrix sig(rows, n_exp);
        std::vector<double> row_sums(static_cast<std::size_t>(rows));
        for (Eigen::Index b = 0; b < rows; ++b) {
            double* row = q.row(b).data();
            row_sums[static_cast<std::size_t>(b)] =
                normalise_scores(row, n_exp, score, sig.row(b).data());
            std::vector<bool> taken(static_cast<std::size_t>(n_exp), false);
            for (Eigen::Index sl = 0; sl < k; ++sl) {
                Eigen::Index best = -1;
                for (Eigen::Index e = 0; e < n_exp; ++e)
                    if (!taken[static_cast<std::size_t>(e)] && (best < 0 || row[e] > row[best]))
                        best = e;
                taken[static_cast<std::size_t>(best)] = true;
                f[static_cast<std::size_t>(best)] += 1.0;
            }
            for (Eigen::Index e = 0; e < n_exp; ++e)
                p[static_cast<std::size_t>(e)] += row[e];
        }
        scores.push_back(q);
        sums.push_back(std::move(row_sums));
        sigmoids.push_back(std::move(sig));
    }
    const double slots = static_cast<double>(batch * k);
    double value = 0.0;
    for (Eigen::Index e = 0; e < n_exp; ++e) {
        f[static_cast<std::size_t>(e)] /= slots;
        value += f[static_cast<std::size_t>(e)] * p[static_cast<std::size_t>(e)] /
                 static_cast<double>(batch);
    }
    const double scale = alpha * static_cast<double>(n_exp) / static_cast<double>(batch);
    loss.value = alpha * static_cast<double>(n_exp) * value;
    // Pass 2: d/dl_j sum_e f_e q_e = q_j (f_j - sum_e f_e q_e) for softmax, and
    // (f_j - sum_e f_e q_e) s_j (1 - s_j) / sum_e s_e for normalised sigmoid scores.
    RowMatrix dlogits;
    std::size_t index = 0;
    for (Eigen::Index first = 0; first < batch; first += block, ++index) {
        const Eigen::Index rows = std::min(block, batch - first);
        const RowMatrix& qs = scores[index];
        dlogits.resize(rows, n_exp);
        for (Eigen::Index b = 0; b < rows; ++b) {
            double mean_f = 0;
            for (Eigen::Index e = 0; e < n_exp; ++e)
                mean_f += f[static_cast<std::size_t>(e)] * qs(b, e);
            for (Eigen::Index j = 0; j < n_exp; ++j) {
                const double centred = f[static_cast<std::size_t>(j)] - mean_f;
                if (score == ScoreFunction::softmax) {
                    dlogits(b, j) = scale * qs(b, j) * centred;
                } else {
                    const double sj = sigmoids[index](b, j);
                    dlogits(b, j) = scale * centred * sj * (1.0 - sj) /
                                    sums[index][static_cast<std::size_t>(b)];
                }
            }
        }
        gradient.noalias() += dlogits.transpose() * inputs.middleRows(first, rows);
    }
    loss.gradient.assign(gradient.data(), gradient.data() + gradient.size());
    return loss;
}

RouterLoss router_z_loss(std::span<const double> router, const RowMatrix& inputs,
                         Eigen::Index n_exp, double beta, Eigen::Index block) {
    const Eigen::Index dim = inputs.cols(), batch = inputs.rows();
    const Eigen::Map<const RowMatrix> weights(router.data(), n_exp, dim);
    RouterLoss loss;
    RowMatrix gradient = RowMatrix::Zero(n_exp, dim);
    if (beta == 0 || batch == 0) {
        loss.gradient.assign(static_cast<std::size_t>(gradient.size()), 0.0);
        return loss;
    }
    // d/dl_j lse^2 = 2 lse softmax_j.
    const double scale = beta / static_cast<double>(batch);
    RowMatrix logits;
    double total = 0.0;
    for (Eigen::Index first = 0; first < batch; first += block) {
        const Eigen::Index rows = std::min(block, batch - first);
        logits.noalias() = inputs.middleRows(first, rows) * weights.transpose();
        for (Eigen::Index b = 0; b < rows; ++b) {
            double* l = logits.row(b).data();
            const double top = *std::max_element(l, l + n_exp);
            double sum = 0.0;
            for (Eigen::Index e = 0; e < n_exp; ++e)
                sum += (l[e] = std::exp(l[e] - top));
            const double lse = top + std::log(sum);
            total += lse * lse;
            for (Eigen::Index e = 0; e < n_exp; ++e)
                l[e] = scale * 2.0 * lse * l[e] / sum;
        }
        gradient.noalias() += logits.transpose() * inputs.middleRows(first, rows);
    }
    loss.value = scale * total;
    loss.gradient.assign(gradient.data(), gradient.data() + gradient.size());
    return loss;
}

} // namespace moesim::model
