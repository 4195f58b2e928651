#pragma once
// Facts about this build, fixed at configure time and recorded as provenance in every output.

#include <string_view>

namespace moesim::core::build_info {

std::string_view version();       ///< moesim version, e.g. "0.1.0"
std::string_view git_commit();    ///< short commit of the source tree, or "unknown"
std::string_view compiler();      ///< compiler id and version
std::string_view compile_flags(); ///< flags that change floating-point bits (-O, -march)

} // namespace moesim::core::build_info
