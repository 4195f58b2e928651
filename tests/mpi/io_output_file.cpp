// io::OutputFile and io::inspect at 1-4 ranks: provenance, /config, status rewrite, refusal to
// overwrite, and a readable summary of finished and still-open files.
#include <doctest/doctest.h>

#include "testing.hpp"

#include "moesim/core/error.hpp"
#include "moesim/io/inspect.hpp"
#include "moesim/io/output_file.hpp"
#include "moesim/io/read.hpp"
#include "moesim/io/series.hpp"

#include <fmt/format.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

using moesim::testing::all_ranks;
using moesim::testing::world;
namespace io = moesim::io;

std::string file_name(const char* base) {
    return fmt::format("{}_np{}.h5", base, world().size());
}

const std::string config_toml = "[run]\nexperiment = \"mfld\"\nseed = 42\n\n[mfld]\n"
                                "n_particles = 1024 # comment with \"quotes\" and ünïcödé\n";

io::RunInfo run_info() {
    return {"mfld", 42, config_toml, "moesim run --seed 42 mfld.toml"};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE("io::OutputFile") {

    TEST_CASE("a new file records provenance, the H5MD header and the resolved config") {
        const auto& comm = world();
        const std::string path = file_name("provenance");
        {
            auto file = io::OutputFile::create(comm, path, true, run_info());
            CHECK(file.is_open());
            file.close();
            CHECK_FALSE(file.is_open());
            file.close(); // safe twice
        }
        bool ok = true;
        if (comm.rank() == 0) {
            auto attribute = [&](const std::string& name) {
                return io::read_attribute_text(path, "/", name);
            };
            CHECK(attribute("experiment") == "mfld");
            CHECK(attribute("seed") == "42");
            CHECK(attribute("nranks") == std::to_string(comm.size()));
            CHECK(attribute("status") == "running");
            CHECK(attribute("hdf5_version") == "1.10.8");
            CHECK(contains(attribute("mpi_version"), "MPI"));
            CHECK(attribute("command_line") == "moesim run --seed 42 mfld.toml");
            CHECK(attribute("created_utc").size() == 20); // 2024-01-02T03:04:05Z
            for (const char* name :
                 {"moesim_version", "git_commit", "host", "compiler", "compile_flags", "cpu_model"})
                CHECK_MESSAGE(!attribute(name).empty(), name);
            CHECK(io::read_attribute_text(path, "/h5md", "version") == "[1, 1]");
            CHECK(io::read_attribute_text(path, "/h5md/creator", "name") == "moesim");
            CHECK(!io::read_attribute_text(path, "/h5md/author", "name").empty());
            CHECK(io::read_string(path, "/config") == config_toml);
            ok = io::read_string(path, "/config") == config_toml &&
                 attribute("nranks") == std::to_string(comm.size());
        }
        REQUIRE(all_ranks(comm, ok));
    }

    TEST_CASE("status is rewritten in place") {
        const auto& comm = world();
        const std::string path = file_name("status");
        {
            auto file = io::OutputFile::create(comm, path, true, run_info());
            file.set_status(io::Status::stopped);
            file.set_status(io::Status::complete);
        } // closed by the destructor
        bool ok = true;
        if (comm.rank() == 0) {
            CHECK(io::read_attribute_text(path, "/", "status") == "complete");
            ok = io::read_attribute_text(path, "/", "status") == "complete";
        }
        REQUIRE(all_ranks(comm, ok));
    }

    TEST_CASE("an existing file is refused without overwrite and truncated with it") {
        const auto& comm = world();
        const std::string path = file_name("exists");
        {
            auto file = io::OutputFile::create(comm, path, true, run_info());
            auto loss = io::Series::replicated(file, "/observables/loss", {});
            loss.append(0, 0.0, std::vector<double>{1.0});
            file.close();
        }
        std::string message;
        try {
            auto again = io::OutputFile::create(comm, path, false, run_info());
        } catch (const moesim::core::IoError& e) {
            message = e.what();
            CHECK(e.scope() == moesim::core::Scope::collective);
        }
        CHECK(contains(message, "exists"));
        CHECK(contains(message, "--force"));
        CHECK(contains(message, path));
        {
            auto file = io::OutputFile::create(comm, path, true, {"rates", 1, "", "x"});
            file.close();
        }
        bool ok = contains(message, "--force");
        if (comm.rank() == 0) {
            CHECK(io::read_attribute_text(path, "/", "experiment") == "rates");
            std::ostringstream summary;
            io::inspect(path, summary);
            CHECK_FALSE(contains(summary.str(), "/observables/loss"));
            ok = ok && !contains(summary.str(), "/observables/loss");
        }
        REQUIRE(all_ranks(comm, ok));
    }

    TEST_CASE("errors name the file and object and carry the HDF5 stack") {
        const auto& comm = world();
        const std::string path = file_name("errors");
        auto file = io::OutputFile::create(comm, path, true, run_info());
        auto first = io::Series::replicated(file, "/observables/loss", {});
        std::string message;
        try {
            auto twice = io::Series::replicated(file, "/observables/loss", {});
        } catch (const moesim::core::IoError& e) {
            message = e.what();
            CHECK(e.object() == "/observables/loss");
        }
        CHECK(contains(message, "H5Gcreate2"));
        CHECK(contains(message, "(): ")); // a walked stack entry, "func(): desc"
        file.close();
        if (comm.rank() == 0) {
            CHECK_THROWS_AS(io::inspect("no_such_file.h5", std::cout), moesim::core::IoError);
            CHECK_THROWS_AS(io::read_float64(path, "/nope"), moesim::core::IoError);
        }
    }

} // TEST_SUITE

TEST_SUITE("io::inspect") {

    TEST_CASE("inspect shows shapes, status and last observable frames, also of an open file") {
        const auto& comm = world();
        const std::string path = file_name("inspect");
        auto file = io::OutputFile::create(comm, path, true, run_info());
        const std::uint64_t n_global = 5;
        auto particles = io::Series::distributed(file, "/particles/x", n_global, {2});
        auto loss = io::Series::replicated(file, "/observables/loss", {});
        auto load = io::Series::replicated(file, "/observables/moe/load", {10});
        const auto rank = static_cast<std::uint64_t>(comm.rank());
        const auto nranks = static_cast<std::uint64_t>(comm.size());
        const std::uint64_t n_local = n_global * (rank + 1) / nranks - n_global * rank / nranks;
        for (int f = 0; f < 3; ++f) {
            particles.append(20 * f, 0.1 * f, std::vector<double>(2 * n_local, 1.5));
            loss.append(20 * f, 0.1 * f, std::vector<double>{0.125 + f});
            std::vector<double> counts;
            for (int i = 0; i < 10; ++i)
                counts.push_back(i + 0.5);
            load.append(20 * f, 0.1 * f, counts);
        }
        // The writer is still open (as in a live or killed run): frames so far were flushed.
        std::string live;
        if (comm.rank() == 0) {
            std::ostringstream summary;
            io::inspect(path, summary);
            live = summary.str();
        }
        comm.barrier();
        file.set_status(io::Status::complete);
        file.close();
        bool ok = true;
        if (comm.rank() == 0) {
            std::ostringstream summary;
            io::inspect(path, summary);
            const std::string done = summary.str();
            INFO(live);
            INFO(done);
            CHECK(contains(live, "status: running (incomplete"));
            CHECK(contains(live, "/particles/x/value  float64 [3][5][2]"));
            CHECK(contains(live, "/particles/x/step  int64 [3]"));
            CHECK(contains(live, "/config  string scalar"));
            CHECK(contains(live, "/observables/loss  step 40  value 2.125"));
            CHECK(contains(live, "/observables/moe/load  step 40  value [0.5, 1.5, 2.5, 3.5, 4.5, "
                                 "5.5, 6.5, 7.5, ...]"));
            CHECK(contains(done, "status: complete"));
            CHECK_FALSE(contains(done, "incomplete"));
            CHECK(contains(done, "experiment = mfld"));
            CHECK(contains(done, fmt::format("nranks = {}", comm.size())));
            ok = contains(live, "[3][5][2]") && contains(done, "status: complete") &&
                 contains(live, "value 2.125");
        }
        REQUIRE(all_ranks(comm, ok));
    }

} // TEST_SUITE
