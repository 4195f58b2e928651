#include "moesim/io/hdf5_errors.hpp"

#include <hdf5.h>

#include <string>

namespace moesim::io {

void silence_hdf5_errors() noexcept {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

namespace {
herr_t append_entry(unsigned /*n*/, const H5E_error2_t* entry, void* data) {
    auto& text = *static_cast<std::string*>(data);
    if (!text.empty())
        text += "; ";
    text += entry->func_name ? entry->func_name : "?";
    text += "(): ";
    text += entry->desc ? entry->desc : "";
    return 0;
}
} // namespace

std::string take_hdf5_error_stack() {
    std::string text;
    // H5E_WALK_DOWNWARD starts at the API function and ends at the innermost failure.
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, append_entry, &text);
    H5Eclear2(H5E_DEFAULT);
    return text;
}

} // namespace moesim::io
