#include "moesim/core/error.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string_view>

namespace moesim::core {

std::string SourcePosition::str() const {
    if (line > 0 && column > 0)
        return fmt::format("{}:{}:{}", source, line, column);
    if (line > 0)
        return fmt::format("{}:{}", source, line);
    return source;
}

ConfigError::ConfigError(SourcePosition where, std::string key, const std::string& problem,
                         Scope scope)
    : Error(key.empty() ? fmt::format("{}: {}", where.str(), problem)
                        : fmt::format("{}: key '{}': {}", where.str(), key, problem),
            scope, 2),
      where_(std::move(where)), key_(std::move(key)) {}

IoError::IoError(std::string operation, std::string file, std::string object, std::string detail,
                 Scope scope)
    : Error(fmt::format("cannot {} '{}'{}{}", operation, file,
                        object.empty() ? std::string() : fmt::format(" (object '{}')", object),
                        detail.empty() ? std::string() : ": " + detail),
            scope, 1),
      operation_(std::move(operation)), file_(std::move(file)), object_(std::move(object)) {}

MpiError::MpiError(const std::string& call, int code, const std::string& mpi_message, Scope scope)
    : Error(fmt::format("MPI call failed: {} returned {} ({})", call, code, mpi_message), scope, 1),
      code_(code) {}

NumericalError::NumericalError(std::string quantity, long long step, double value, Scope scope)
    : Error(fmt::format("numerical failure: {} is {} at step {}", quantity, value, step), scope, 1),
      quantity_(std::move(quantity)), step_(step), value_(value) {}

StopRequested::StopRequested(std::string position, std::string checkpoint)
    : Error(fmt::format("stopped by a signal {}; checkpoint '{}' written; resume with "
                        "--restart {}",
                        position, checkpoint, checkpoint),
            Scope::collective, 75),
      position_(std::move(position)), checkpoint_(std::move(checkpoint)) {}

InternalError::InternalError(const std::string& what, std::source_location where)
    : Error(fmt::format("internal error: {} ({}:{} in {}). This is a bug, please report it.", what,
                        trimmed_source_path(where.file_name()), where.line(),
                        where.function_name()),
            Scope::local, 1) {}

std::string trimmed_source_path(const char* path) {
    std::string_view p(path);
    for (std::string_view marker : {"/src/", "/include/", "/tests/"}) {
        if (auto pos = p.rfind(marker); pos != std::string_view::npos)
            return std::string(p.substr(pos + 1));
    }
    return std::string(p);
}

} // namespace moesim::core
