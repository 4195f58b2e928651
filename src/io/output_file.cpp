#include "moesim/io/output_file.hpp"

#include "io/h5_calls.hpp"
#include "moesim/core/build_info.hpp"
#include "moesim/core/error.hpp"
#include "moesim/io/hdf5_errors.hpp"
#include "moesim/par/communicator.hpp"

#include "io/warn.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <fmt/format.h>
#include <mpi.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace moesim::io {

const char* to_string(Status status) noexcept {
    switch (status) {
    case Status::running:
        return "running";
    case Status::complete:
        return "complete";
    case Status::stopped:
        return "stopped";
    case Status::failed:
        return "failed";
    }
    return "unknown";
}

namespace {

// Fixed size of the `status` string attribute, so it can be rewritten in place by H5Awrite.
constexpr std::size_t status_size = 16;

std::string hostname() {
    std::array<char, 256> name{};
    if (gethostname(name.data(), name.size() - 1) != 0)
        return "unknown";
    return std::string(name.data());
}

std::string utc_now_iso8601() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::array<char, 32> text{};
    std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(text.data());
}

std::string cpu_model() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) {
            if (auto colon = line.find(':'); colon != std::string::npos) {
                auto start = line.find_first_not_of(" \t", colon + 1);
                return start == std::string::npos ? std::string() : line.substr(start);
            }
        }
    }
    return "unknown";
}

// The first line of MPI_Get_library_version. Boost.MPI 1.74 has no wrapper for it.
std::string mpi_library_version() {
    std::array<char, MPI_MAX_LIBRARY_VERSION_STRING> text{};
    int length = 0;
    if (MPI_Get_library_version(text.data(), &length) != MPI_SUCCESS)
        return "unknown";
    std::string version(text.data(), static_cast<std::size_t>(length));
    if (auto newline = version.find('\n'); newline != std::string::npos)
        version.resize(newline);
    while (!version.empty() && (version.back() == '\0' || version.back() == ' '))
        version.pop_back();
    return version;
}

std::string user_name() {
    const char* user = std::getenv("USER");
    return user && *user ? std::string(user) : std::string("moesim user");
}

// A fixed-length, NUL-terminated UTF-8 string type of `size` bytes (at least 1).
Handle string_type(std::size_t size, const impl::Where& where) {
    Handle type = impl::tcopy(H5T_C_S1, where);
    impl::tset_size(type.id(), size == 0 ? 1 : size, where);
    impl::tset_strpad(type.id(), H5T_STR_NULLTERM, where);
    impl::tset_cset(type.id(), H5T_CSET_UTF8, where);
    return type;
}

std::string object_path(const std::string& group, const std::string& name) {
    return group == "/" ? "/" + name : group + "/" + name;
}

// Attribute writers: collective, with identical data on every rank.
void write_string_attribute(hid_t loc, const std::string& group, const std::string& name,
                            const std::string& value, std::size_t size, const std::string& file) {
    const std::string path = object_path(group, name);
    const impl::Where where{file, path};
    // `size` includes the terminating NUL; longer values are cut (only `status` has a fixed
    // size, and its values fit).
    std::vector<char> buffer(std::max<std::size_t>(size, 1), '\0');
    value.copy(buffer.data(), std::min(value.size(), buffer.size() - 1));
    Handle type = string_type(buffer.size(), where);
    Handle space = impl::screate(H5S_SCALAR, where);
    Handle attr = impl::acreate(loc, name.c_str(), type.id(), space.id(), where);
    impl::awrite(attr.id(), type.id(), buffer.data(), where);
}

void write_string_attribute(hid_t loc, const std::string& group, const std::string& name,
                            const std::string& value, const std::string& file) {
    write_string_attribute(loc, group, name, value, value.size() + 1, file);
}

template <class T>
void write_number_attribute(hid_t loc, const std::string& group, const std::string& name,
                            hid_t file_type, hid_t mem_type, const std::vector<T>& values,
                            bool scalar, const std::string& file) {
    const impl::Where where{file, object_path(group, name)};
    Handle space = scalar ? impl::screate(H5S_SCALAR, where)
                          : impl::screate_simple({static_cast<hsize_t>(values.size())}, {}, where);
    Handle attr = impl::acreate(loc, name.c_str(), file_type, space.id(), where);
    impl::awrite(attr.id(), mem_type, values.data(), where);
}

// Everything recorded at creation that may differ between ranks, taken from rank 0 so every
// rank writes the same bytes.
enum ProvenanceField : std::size_t {
    experiment,
    command_line,
    config_toml,
    created_utc,
    host,
    mpi_version,
    cpu_model_field,
    user,
    field_count
};

std::vector<std::string> gather_provenance(const boost::mpi::communicator& comm,
                                           const RunInfo& info) {
    std::vector<std::string> fields;
    if (comm.rank() == 0) {
        fields.resize(field_count);
        fields[experiment] = info.experiment;
        fields[command_line] = info.command_line;
        fields[config_toml] = info.config_toml;
        fields[created_utc] = utc_now_iso8601();
        fields[host] = hostname();
        fields[mpi_version] = mpi_library_version();
        fields[cpu_model_field] = cpu_model();
        fields[user] = user_name();
    }
    boost::mpi::broadcast(comm, fields, 0);
    return fields;
}

void write_config(hid_t file, const std::string& toml, int rank, const std::string& path) {
    const impl::Where where{path, "/config"};
    Handle type = string_type(toml.size() + 1, where);
    Handle file_space = impl::screate(H5S_SCALAR, where);
    Handle dataset =
        impl::dcreate(file, "config", type.id(), file_space.id(), H5P_DEFAULT, H5P_DEFAULT, where);
    Handle mem_space = impl::screate(H5S_SCALAR, where);
    // Rank 0 writes; the others join the collective write with an empty selection.
    if (rank != 0) {
        impl::sselect_none(file_space.id(), where);
        impl::sselect_none(mem_space.id(), where);
    }
    Handle dxpl = impl::pcreate(H5P_DATASET_XFER, where);
    impl::pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE, where);
    std::vector<char> buffer(toml.begin(), toml.end());
    buffer.push_back('\0');
    impl::dwrite(dataset.id(), type.id(), mem_space.id(), file_space.id(), dxpl.id(), buffer.data(),
                 where);
}

// File access through MPI-IO with collective metadata reads and writes.
Handle mpio_file_access(const boost::mpi::communicator& comm, const impl::Where& where) {
    Handle fapl = impl::pcreate(H5P_FILE_ACCESS, where);
    impl::pset_fapl_mpio(fapl.id(), comm, MPI_INFO_NULL, where);
    impl::pset_all_coll_metadata_ops(fapl.id(), true, where);
    impl::pset_coll_metadata_write(fapl.id(), true, where);
    // STRONG: closing the file also closes datasets a Series may still hold.
    impl::pset_fclose_degree(fapl.id(), H5F_CLOSE_STRONG, where);
    return fapl;
}

} // namespace

OutputFile::OutputFile(boost::mpi::communicator comm, std::string path, Handle file)
    : comm_(std::move(comm)), path_(std::move(path)), file_(std::move(file)) {}

OutputFile OutputFile::create(const boost::mpi::communicator& comm, const std::string& path,
                              bool overwrite, const RunInfo& info) {
    silence_hdf5_errors();
    boost::mpi::communicator own = par::duplicate(comm);
    const impl::Where where{path, "/"};

    // First line of defence: a readable message instead of HDF5's "file exists" stack.
    bool exists = false;
    if (own.rank() == 0) {
        std::error_code ec;
        exists = std::filesystem::exists(path, ec);
    }
    boost::mpi::broadcast(own, exists, 0);
    if (exists && !overwrite)
        throw core::IoError("create", path, "", "the file exists; pass --force to overwrite it",
                            core::Scope::collective);

    Handle fapl = mpio_file_access(own, where);

    // All ranks open the file in one collective MPI_File_open, so they fail together; the
    // any() makes sure of it before anyone writes.
    Handle file;
    std::string failure;
    try {
        file = impl::fcreate(path.c_str(), overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT,
                             fapl.id(), where);
    } catch (const core::IoError& e) {
        failure = e.what();
    }
    if (par::any(own, !failure.empty() || !file.valid())) {
        (void)file.release(); // some ranks failed: no collective close possible
        std::error_code ec;
        if (!overwrite && std::filesystem::exists(path, ec))
            throw core::IoError("create", path, "", "the file exists; pass --force to overwrite it",
                                core::Scope::collective);
        throw core::IoError("create", path, "",
                            failure.empty() ? "another rank failed to create it" : failure,
                            core::Scope::collective);
    }

    OutputFile out(std::move(own), path, std::move(file));
    const hid_t root = out.file_.id();
    const auto fields = gather_provenance(out.comm_, info);
    std::uint64_t seed = info.seed;
    boost::mpi::broadcast(out.comm_, seed, 0);

    write_string_attribute(root, "/", "moesim_version", std::string(core::build_info::version()),
                           path);
    write_string_attribute(root, "/", "git_commit", std::string(core::build_info::git_commit()),
                           path);
    write_string_attribute(root, "/", "experiment", fields[experiment], path);
    write_number_attribute<std::uint64_t>(root, "/", "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                                          {seed}, true, path);
    write_number_attribute<int>(root, "/", "nranks", H5T_STD_I32LE, H5T_NATIVE_INT,
                                {out.comm_.size()}, true, path);
    write_string_attribute(root, "/", "created_utc", fields[created_utc], path);
    write_string_attribute(root, "/", "host", fields[host], path);
    write_string_attribute(root, "/", "command_line", fields[command_line], path);
    write_string_attribute(root, "/", "hdf5_version", impl::get_libversion(where), path);
    write_string_attribute(root, "/", "mpi_version", fields[mpi_version], path);
    write_string_attribute(root, "/", "compiler", std::string(core::build_info::compiler()), path);
    write_string_attribute(root, "/", "compile_flags",
                           std::string(core::build_info::compile_flags()), path);
    write_string_attribute(root, "/", "cpu_model", fields[cpu_model_field], path);
    write_string_attribute(root, "/", "status", to_string(Status::running), status_size, path);

    // H5MD 1.1 header.
    {
        const impl::Where h5md_where{path, "/h5md"};
        Handle h5md = impl::gcreate(root, "h5md", H5P_DEFAULT, h5md_where);
        write_number_attribute<int>(h5md.id(), "/h5md", "version", H5T_STD_I32LE, H5T_NATIVE_INT,
                                    {1, 1}, false, path);
        Handle author = impl::gcreate(h5md.id(), "author", H5P_DEFAULT, {path, "/h5md/author"});
        write_string_attribute(author.id(), "/h5md/author", "name", fields[user], path);
        Handle creator = impl::gcreate(h5md.id(), "creator", H5P_DEFAULT, {path, "/h5md/creator"});
        write_string_attribute(creator.id(), "/h5md/creator", "name", "moesim", path);
        write_string_attribute(creator.id(), "/h5md/creator", "version",
                               std::string(core::build_info::version()), path);
    }
    write_config(root, fields[config_toml], out.comm_.rank(), path);
    out.flush();
    return out;
}

OutputFile OutputFile::open_for_restart(const boost::mpi::communicator& comm,
                                        const std::string& path, std::uint64_t resume_step) {
    silence_hdf5_errors();
    boost::mpi::communicator own = par::duplicate(comm);
    const impl::Where where{path, "/"};
    Handle fapl = mpio_file_access(own, where);
    Handle file;
    std::string failure;
    try {
        file = impl::fopen(path.c_str(), H5F_ACC_RDWR, fapl.id(), where);
    } catch (const core::IoError& e) {
        failure = e.what();
    }
    if (par::any(own, !failure.empty() || !file.valid())) {
        (void)file.release();
        throw core::IoError("reopen for restart", path, "",
                            failure.empty() ? "another rank failed to open it" : failure,
                            core::Scope::collective);
    }
    OutputFile out(std::move(own), path, std::move(file));
    out.resume_step_ = resume_step;
    out.set_status(Status::running);
    return out;
}

void OutputFile::add_attribute(const std::string& name, std::int64_t value) {
    core::require(file_.valid(), "add_attribute on a closed output file");
    write_number_attribute<std::int64_t>(file_.id(), "/", name, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                         {value}, true, path_);
}

void OutputFile::add_attribute(const std::string& name, const std::string& value) {
    core::require(file_.valid(), "add_attribute on a closed output file");
    write_string_attribute(file_.id(), "/", name, value, path_);
}

OutputFile::~OutputFile() {
    if (!file_.valid())
        return;
    if (std::uncaught_exceptions() > 0) {
        // H5Fclose on an MPI-IO file is collective; other ranks may never reach it.
        impl::warn(fmt::format("output file '{}' not closed: an exception is in flight; frames "
                               "flushed so far are readable",
                               path_));
        (void)file_.release();
        return;
    }
    try {
        close();
    } catch (const std::exception& e) {
        impl::warn(fmt::format("closing output file '{}' failed: {}", path_, e.what()));
    }
}

void OutputFile::set_status(Status status) {
    core::require(file_.valid(), "set_status on a closed output file");
    const impl::Where where{path_, "/status"};
    std::vector<char> buffer(status_size, '\0');
    const std::string text = to_string(status);
    std::copy(text.begin(), text.end(), buffer.begin());
    Handle attr = impl::aopen(file_.id(), "status", where);
    Handle type = string_type(status_size, where);
    impl::awrite(attr.id(), type.id(), buffer.data(), where);
    attr.reset();
    flush();
}

void OutputFile::flush() {
    core::require(file_.valid(), "flush on a closed output file");
    impl::fflush(file_.id(), H5F_SCOPE_GLOBAL, {path_, "/"});
}

void OutputFile::close() {
    if (!file_.valid())
        return;
    const hid_t id = file_.release();
    impl::fclose(id, {path_, "/"});
}

} // namespace moesim::io
