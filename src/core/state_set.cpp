#include "moesim/core/state_set.hpp"

#include "moesim/core/error.hpp"

#include <fmt/format.h>

#include <functional>
#include <numeric>

namespace moesim::core {

namespace {
std::uint64_t product(const std::vector<std::uint64_t>& shape) {
    return std::accumulate(shape.begin(), shape.end(), std::uint64_t{1}, std::multiplies<>());
}
} // namespace

std::uint64_t StateArray::row_size() const noexcept {
    return product(row_shape);
}

std::uint64_t StateArray::n_local() const noexcept {
    if (!distributed)
        return 1;
    const std::uint64_t width = row_size();
    return width == 0 ? 0 : values.size() / width;
}

void StateSet::check_new_name(const std::string& name) const {
    if (name.empty())
        throw InternalError("StateSet: a state array needs a name");
    for (const StateArray& array : arrays_)
        if (array.name == name)
            throw InternalError(fmt::format("StateSet: state array '{}' registered twice", name));
}

StateSet& StateSet::distributed(std::string name, std::uint64_t n_global, std::uint64_t first_row,
                                std::vector<std::uint64_t> row_shape,
                                std::span<double> local_rows) {
    check_new_name(name);
    StateArray array{std::move(name), true, n_global, first_row, std::move(row_shape), local_rows};
    const std::uint64_t width = array.row_size();
    if (width == 0 ? !local_rows.empty() : local_rows.size() % width != 0)
        throw InternalError(fmt::format("StateSet: '{}' holds {} values, not whole rows of {}",
                                        array.name, local_rows.size(), width));
    if (first_row + array.n_local() > n_global)
        throw InternalError(fmt::format("StateSet: '{}' rows [{}, {}) run past its {} rows",
                                        array.name, first_row, first_row + array.n_local(),
                                        n_global));
    arrays_.push_back(std::move(array));
    return *this;
}

StateSet& StateSet::replicated(std::string name, std::vector<std::uint64_t> shape,
                               std::span<double> values) {
    check_new_name(name);
    StateArray array{std::move(name), false, 1, 0, std::move(shape), values};
    if (values.size() != array.row_size())
        throw InternalError(fmt::format("StateSet: '{}' holds {} values, its shape needs {}",
                                        array.name, values.size(), array.row_size()));
    arrays_.push_back(std::move(array));
    return *this;
}

} // namespace moesim::core
