#pragma once
// moesim's error hierarchy (after openPMD-api's Error.hpp and LAMMPS' Error::all/one):
// users and `main` catch by kind; every error knows whether all ranks raised it together
// (collective: report once and finalize) or only some did (local: abort the job).

#include <source_location>
#include <stdexcept>
#include <string>

namespace moesim::core {

/// Whether every rank of the communicator reaches the same throw with the same condition.
enum class Scope { collective, local };

/// Base of all moesim errors. Carries its scope and the process exit code it maps to.
class Error : public std::runtime_error {
public:
    Scope scope() const noexcept { return scope_; }
    int exit_code() const noexcept { return exit_code_; }

protected:
    Error(const std::string& message, Scope scope, int exit_code)
        : std::runtime_error(message), scope_(scope), exit_code_(exit_code) {}

private:
    Scope scope_;
    int exit_code_;
};

/// Where a config value came from: a file (or "--set", "<default>") and a position in it.
struct SourcePosition {
    std::string source;
    int line = 0;   ///< 1-based; 0 if unknown
    int column = 0; ///< 1-based; 0 if unknown

    /// "file:line:column", "file:line" or "file", whichever is known.
    std::string str() const;
};

/// Bad configuration: unknown key, wrong type, out of range, unparsable TOML. Exit 2.
/// Config is validated identically on every rank, so this is collective by default.
class ConfigError : public Error {
public:
    ConfigError(SourcePosition where, std::string key, const std::string& problem,
                Scope scope = Scope::collective);
    const SourcePosition& where() const noexcept { return where_; }
    const std::string& key() const noexcept { return key_; }

private:
    SourcePosition where_;
    std::string key_;
};

/// Bad command line or refused request (existing output without --force). Exit 2.
class UsageError : public Error {
public:
    explicit UsageError(const std::string& message, Scope scope = Scope::collective)
        : Error(message, scope, 2) {}
};

/// A failed file operation: what was done, on which file and object, and the HDF5 error stack.
class IoError : public Error {
public:
    IoError(std::string operation, std::string file, std::string object, std::string detail,
            Scope scope = Scope::local);
    const std::string& operation() const noexcept { return operation_; }
    const std::string& file() const noexcept { return file_; }
    const std::string& object() const noexcept { return object_; }

private:
    std::string operation_, file_, object_;
};

/// A failed MPI call, with the call text and MPI's error string.
class MpiError : public Error {
public:
    MpiError(const std::string& call, int code, const std::string& mpi_message,
             Scope scope = Scope::local);
    int code() const noexcept { return code_; }

private:
    int code_;
};

/// NaN, Inf or blow-up in a named quantity at a given step. Exit 1.
class NumericalError : public Error {
public:
    NumericalError(std::string quantity, long long step, double value,
                   Scope scope = Scope::collective);
    const std::string& quantity() const noexcept { return quantity_; }
    long long step() const noexcept { return step_; }
    double value() const noexcept { return value_; }

private:
    std::string quantity_;
    long long step_;
    double value_;
};

/// The run was asked to stop (SIGUSR1/SIGTERM) and wrote a checkpoint it can resume from.
/// Exit 75 (EX_TEMPFAIL) so a batch script can requeue. Collective: ranks agree on the
/// stop flag before anyone throws.
class StopRequested : public Error {
public:
    /// `position` says where the run stopped: "at step 120", "after 12 of 40 jobs".
    StopRequested(std::string position, std::string checkpoint);
    const std::string& position() const noexcept { return position_; }
    const std::string& checkpoint() const noexcept { return checkpoint_; }

private:
    std::string position_;
    std::string checkpoint_;
};

/// A broken invariant inside moesim: a bug. Names the source location. Exit 1, local.
class InternalError : public Error {
public:
    explicit InternalError(const std::string& what,
                           std::source_location where = std::source_location::current());
};

/// Throws InternalError if `condition` is false. For invariants, not for user input.
inline void require(bool condition, const char* what,
                    std::source_location where = std::source_location::current()) {
    if (!condition)
        throw InternalError(what, where);
}

/// Source file path trimmed to start at "src/" or "include/" (LAMMPS' FLERR trimming).
std::string trimmed_source_path(const char* path);

} // namespace moesim::core
