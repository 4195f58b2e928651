#include "moesim/model/loss_free_bias.hpp"

#include "moesim/core/error.hpp"

namespace moesim::model {

void update_expert_bias(std::span<double> bias, const std::vector<double>& load, double rate) {
    core::require(bias.size() == load.size(), "update_expert_bias: bias and load sizes differ");
    if (load.empty())
        return;
    double mean = 0.0;
    for (double c : load)
        mean += c;
    mean /= static_cast<double>(load.size());
    for (std::size_t e = 0; e < bias.size(); ++e)
        bias[e] += rate * static_cast<double>((mean > load[e]) - (mean < load[e]));
}

} // namespace moesim::model
