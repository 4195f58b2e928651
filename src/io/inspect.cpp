#include "moesim/io/inspect.hpp"

#include "io/h5_calls.hpp"

#include "moesim/core/error.hpp"
#include "moesim/io/checkpoint.hpp"
#include "moesim/io/read.hpp"

#include "io/read_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::io {

namespace {

constexpr std::size_t max_shown_values = 8;

constexpr std::array<std::string_view, 15> known_order{
    "status",        "experiment",   "seed",           "nranks",      "created_utc",
    "host",          "command_line", "moesim_version", "git_commit",  "compiler",
    "compile_flags", "cpu_model",    "hdf5_version",   "mpi_version", "format_version"};

herr_t collect_attribute_name(hid_t /*loc*/, const char* name, const H5A_info_t* /*info*/,
                              void* data) {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
}

herr_t collect_hard_link(hid_t /*group*/, const char* name, const H5L_info_t* info, void* data) {
    if (info->type == H5L_TYPE_HARD)
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
}

std::string child_path(const std::string& group, const std::string& name) {
    return group == "/" ? "/" + name : group + "/" + name;
}

struct Walk {
    const std::string& file_name;
    std::ostream& out;
    std::vector<std::string> series; // groups under /observables holding a `value` dataset
};

void print_tree(hid_t group, const std::string& group_path, Walk& walk) {
    const impl::Where where{walk.file_name, group_path};
    std::vector<std::string> names;
    impl::literate(group, H5_INDEX_NAME, H5_ITER_INC, collect_hard_link, &names, where);
    for (const auto& name : names) {
        const std::string path = child_path(group_path, name);
        const impl::Where child{walk.file_name, path};
        Handle object = impl::oopen(group, name.c_str(), child);
        switch (impl::iget_type(object.id(), child)) {
        case H5I_GROUP:
            walk.out << fmt::format("  {}/\n", path);
            if (path.rfind("/observables/", 0) == 0 && impl::lexists(object.id(), "value", child))
                walk.series.push_back(path);
            print_tree(object.id(), path, walk);
            break;
        case H5I_DATASET: {
            Handle type = impl::dget_type(object.id(), child);
            Handle space = impl::dget_space(object.id(), child);
            walk.out << fmt::format("  {}  {} {}\n", path, impl::dtype_name(type.id(), child),
                                    impl::shape_text(space.id(), child));
            break;
        }
        default:
            walk.out << fmt::format("  {}  (other object)\n", path);
            break;
        }
    }
}

// Prints the last frame of series `path`: "step S  value V" (vectors: first 8 entries).
void print_last_frame(hid_t file, const std::string& path, const std::string& file_name,
                      std::ostream& out) {
    const std::string value_path = path + "/value";
    const impl::Where where{file_name, value_path};
    Handle value = impl::dopen(file, value_path.c_str(), where);
    Handle space = impl::dget_space(value.id(), where);
    const std::vector<hsize_t> dims = impl::sget_simple_extent_dims(space.id(), where);
    if (dims.empty() || dims[0] == 0) {
        out << fmt::format("  {}  (no frames)\n", path);
        return;
    }
    const hsize_t last = dims[0] - 1;

    std::string step_text = "?";
    const std::string step_path = path + "/step";
    if (impl::lexists(file, step_path.c_str(), where)) {
        const impl::Where step_where{file_name, step_path};
        Handle step = impl::dopen(file, step_path.c_str(), step_where);
        Handle step_space = impl::dget_space(step.id(), step_where);
        const auto step_dims = impl::sget_simple_extent_dims(step_space.id(), step_where);
        if (step_dims.size() == 1 && step_dims[0] > last) {
            impl::sselect_hyperslab(step_space.id(), H5S_SELECT_SET, {last}, {1}, step_where);
            Handle mem = impl::screate_simple({1}, {}, step_where);
            std::int64_t step_value = 0;
            impl::dread(step.id(), H5T_NATIVE_INT64, mem.id(), step_space.id(), H5P_DEFAULT,
                        &step_value, step_where);
            step_text = fmt::format("{}", step_value);
        }
    }

    std::vector<hsize_t> start(dims.size(), 0);
    std::vector<hsize_t> count(dims.begin(), dims.end());
    start[0] = last;
    count[0] = 1;
    std::uint64_t frame_elements = 1;
    for (std::size_t i = 1; i < dims.size(); ++i)
        frame_elements *= dims[i];
    std::vector<double> frame(frame_elements);
    if (frame_elements > 0) {
        impl::sselect_hyperslab(space.id(), H5S_SELECT_SET, start, count, where);
        Handle mem = impl::screate_simple({frame_elements}, {}, where);
        impl::dread(value.id(), H5T_NATIVE_DOUBLE, mem.id(), space.id(), H5P_DEFAULT, frame.data(),
                    where);
    }
    std::string value_text;
    if (dims.size() == 1) {
        value_text = fmt::format("{:.6g}", frame[0]);
    } else {
        std::vector<std::string> items;
        for (std::size_t i = 0; i < std::min(frame.size(), max_shown_values); ++i)
            items.push_back(fmt::format("{:.6g}", frame[i]));
        if (frame.size() > max_shown_values)
            items.push_back("...");
        value_text = fmt::format("[{}]", fmt::join(items, ", "));
    }
    out << fmt::format("  {}  step {}  value {}\n", path, step_text, value_text);
}

// "at step 120" or "12 of 40 jobs done", from a checkpoint's attributes.
std::string checkpoint_summary(const std::string& checkpoint) {
    try {
        const std::string jobs_total = read_attribute_text(checkpoint, "/", "jobs_total");
        if (jobs_total != "0")
            return fmt::format("{} of {} jobs done",
                               read_attribute_text(checkpoint, "/", "jobs_done"), jobs_total);
        return fmt::format("state at step {}",
                           read_attribute_text(checkpoint, "/", "checkpoint_step"));
    } catch (const core::IoError& e) {
        return fmt::format("unreadable ({})", e.what());
    }
}

} // namespace

void inspect(const std::string& path, std::ostream& out) {
    Handle file = impl::open_read_only(path);
    const hid_t root = file.id();
    const impl::Where root_where{path, "/"};

    out << fmt::format("file: {}\n", path);
    out << "attributes:\n";
    std::vector<std::string> names;
    impl::aiterate(root, H5_INDEX_NAME, H5_ITER_INC, collect_attribute_name, &names, root_where);
    // Provenance in the order OutputFile writes it, then anything else by name.
    std::stable_partition(names.begin(), names.end(), [](const std::string& name) {
        return std::find(known_order.begin(), known_order.end(), name) != known_order.end();
    });
    const auto known_end = std::find_if(names.begin(), names.end(), [](const std::string& name) {
        return std::find(known_order.begin(), known_order.end(), name) == known_order.end();
    });
    std::sort(names.begin(), known_end, [](const std::string& a, const std::string& b) {
        return std::find(known_order.begin(), known_order.end(), a) <
               std::find(known_order.begin(), known_order.end(), b);
    });
    std::string status;
    for (const auto& name : names) {
        const impl::Where where{path, "/" + name};
        Handle attr = impl::aopen(root, name.c_str(), where);
        const std::string text = impl::attribute_text(attr.id(), where);
        if (name == "status") {
            status = text;
            out << fmt::format("  {} = {}  <==\n", name, text);
        } else {
            out << fmt::format("  {} = {}\n", name, text);
        }
    }
    if (status == "complete")
        out << "status: complete\n";
    else if (status.empty())
        out << "status: unknown (no status attribute: not a moesim output file?)\n";
    else
        out << fmt::format("status: {} (incomplete: the run did not finish; frames flushed so "
                           "far are readable)\n",
                           status);
    const bool is_checkpoint =
        std::find(names.begin(), names.end(), "checkpoint_format_version") != names.end();
    if (is_checkpoint) {
        out << fmt::format("checkpoint: {}\n", checkpoint_summary(path));
    } else if (status != "complete") {
        const std::string checkpoint = checkpoint_path_for(path);
        std::error_code ec;
        if (std::filesystem::is_regular_file(checkpoint, ec))
            out << fmt::format("checkpoint: {}: {}; resume with: moesim run --restart {}\n",
                               checkpoint, checkpoint_summary(checkpoint), checkpoint);
    }

    out << "tree:\n";
    Walk walk{path, out, {}};
    print_tree(root, "/", walk);

    if (!walk.series.empty()) {
        out << "last frames:\n";
        for (const auto& series : walk.series)
            print_last_frame(root, series, path, out);
    }
}

} // namespace moesim::io
