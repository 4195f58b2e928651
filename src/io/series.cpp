#include "moesim/io/series.hpp"

#include "io/h5_calls.hpp"
#include "moesim/core/error.hpp"
#include "moesim/par/communicator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <numeric>

namespace moesim::io {

namespace {

// Chunks of a distributed frame are capped at about this size by taking fewer rows.
constexpr std::uint64_t max_chunk_bytes = std::uint64_t{1} << 20;
// Small per-frame datasets (step, time, small replicated values) get several frames per
// chunk: one chunk per frame would mean one B-tree entry per 8 bytes.
constexpr std::uint64_t small_chunk_bytes = std::uint64_t{64} << 10;
constexpr std::uint64_t max_frames_per_chunk = 1024;

std::uint64_t product(const std::vector<std::uint64_t>& dims) {
    return std::accumulate(dims.begin(), dims.end(), std::uint64_t{1},
                           std::multiplies<std::uint64_t>());
}

std::string join_path(const std::string& group, const char* name) {
    return group.empty() || group.back() != '/' ? group + "/" + name : group + name;
}

// Creates an empty extendible dataset [0][frame_shape...] of `type` with the given chunk.
// A fixed dimension of size 0 gets max size 1, since a chunk dimension may not exceed it.
Handle create_series_dataset(hid_t group, const char* name, hid_t type,
                             const std::vector<std::uint64_t>& frame_shape,
                             std::vector<hsize_t> chunk, const impl::Where& where) {
    std::vector<hsize_t> dims{0};
    std::vector<hsize_t> maxdims{H5S_UNLIMITED};
    for (std::size_t i = 0; i < frame_shape.size(); ++i) {
        dims.push_back(frame_shape[i]);
        maxdims.push_back(std::max<hsize_t>(frame_shape[i], 1));
        chunk[i + 1] = std::clamp<hsize_t>(chunk[i + 1], 1, maxdims.back());
    }
    Handle space = impl::screate_simple(dims, maxdims, where);
    Handle dcpl = impl::pcreate(H5P_DATASET_CREATE, where);
    impl::pset_chunk(dcpl.id(), chunk, where);
    // MPI-IO allocates chunks when the extent grows; never spend a write on fill values.
    impl::pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER, where);
    return impl::dcreate(group, name, type, space.id(), H5P_DEFAULT, dcpl.id(), where);
}

hsize_t frames_per_chunk(std::uint64_t frame_bytes) {
    if (frame_bytes == 0 || frame_bytes >= small_chunk_bytes)
        return 1;
    return std::min(max_frames_per_chunk, small_chunk_bytes / frame_bytes);
}

} // namespace

Series Series::distributed(OutputFile& file, const std::string& path, std::uint64_t n_global,
                           std::vector<std::uint64_t> row_shape) {
    Series series;
    series.file_ = &file;
    series.path_ = path;
    series.distributed_ = true;
    series.n_global_ = n_global;
    series.frame_shape_.push_back(n_global);
    series.frame_shape_.insert(series.frame_shape_.end(), row_shape.begin(), row_shape.end());
    const std::uint64_t row_bytes = product(row_shape) * sizeof(double);
    const std::uint64_t rows_per_chunk =
        row_bytes == 0 ? 1 : std::max<std::uint64_t>(1, max_chunk_bytes / row_bytes);
    std::vector<hsize_t> chunk{1, std::min(n_global, rows_per_chunk)};
    chunk.insert(chunk.end(), row_shape.begin(), row_shape.end());
    series.create({chunk.begin(), chunk.end()});
    return series;
}

Series Series::replicated(OutputFile& file, const std::string& path,
                          std::vector<std::uint64_t> shape) {
    Series series;
    series.file_ = &file;
    series.path_ = path;
    series.frame_shape_ = std::move(shape);
    const std::uint64_t frame_bytes = product(series.frame_shape_) * sizeof(double);
    std::vector<hsize_t> chunk{frames_per_chunk(frame_bytes)};
    chunk.insert(chunk.end(), series.frame_shape_.begin(), series.frame_shape_.end());
    if (chunk.size() > 1 && frame_bytes > max_chunk_bytes) {
        const std::uint64_t sub_bytes = frame_bytes / std::max<std::uint64_t>(chunk[1], 1);
        chunk[1] =
            std::max<std::uint64_t>(1, max_chunk_bytes / std::max<std::uint64_t>(sub_bytes, 1));
    }
    series.create({chunk.begin(), chunk.end()});
    return series;
}

void Series::create(const std::vector<std::uint64_t>& value_chunk_rows) {
    const std::vector<hsize_t> value_chunk(value_chunk_rows.begin(), value_chunk_rows.end());
    const std::string& file_name = file_->path();
    const impl::Where where{file_name, path_};
    if (file_->resume_step() && impl::path_exists(file_->id(), path_, where)) {
        reopen(*file_->resume_step());
        return;
    }
    Handle lcpl = impl::pcreate(H5P_LINK_CREATE, where);
    impl::pset_create_intermediate_group(lcpl.id(), true, where);
    Handle group = impl::gcreate(file_->id(), path_.c_str(), lcpl.id(), where);

    const std::string step_path = join_path(path_, "step");
    const std::string time_path = join_path(path_, "time");
    const std::string value_path = join_path(path_, "value");
    const std::vector<hsize_t> scalar_chunk{frames_per_chunk(sizeof(double))};
    step_ = create_series_dataset(group.id(), "step", H5T_STD_I64LE, {}, scalar_chunk,
                                  {file_name, step_path});
    time_ = create_series_dataset(group.id(), "time", H5T_IEEE_F64LE, {}, scalar_chunk,
                                  {file_name, time_path});
    value_ = create_series_dataset(group.id(), "value", H5T_IEEE_F64LE, frame_shape_, value_chunk,
                                   {file_name, value_path});
    dxpl_ = impl::pcreate(H5P_DATASET_XFER, where);
    impl::pset_dxpl_mpio(dxpl_.id(), H5FD_MPIO_COLLECTIVE, where);
}

void Series::reopen(std::uint64_t resume_step) {
    const std::string& file_name = file_->path();
    const std::string step_path = join_path(path_, "step");
    const std::string time_path = join_path(path_, "time");
    const std::string value_path = join_path(path_, "value");
    step_ = impl::dopen(file_->id(), step_path.c_str(), {file_name, step_path});
    time_ = impl::dopen(file_->id(), time_path.c_str(), {file_name, time_path});
    value_ = impl::dopen(file_->id(), value_path.c_str(), {file_name, value_path});
    dxpl_ = impl::pcreate(H5P_DATASET_XFER, {file_name, path_});
    impl::pset_dxpl_mpio(dxpl_.id(), H5FD_MPIO_COLLECTIVE, {file_name, path_});

    Handle value_space = impl::dget_space(value_.id(), {file_name, value_path});
    const auto dims = impl::sget_simple_extent_dims(value_space.id(), {file_name, value_path});
    if (!std::equal(dims.begin() + 1, dims.end(), frame_shape_.begin(), frame_shape_.end()) ||
        dims.size() != frame_shape_.size() + 1)
        throw core::IoError("resume series", file_name, value_path,
                            fmt::format("its frames have shape [{}], this run writes [{}]",
                                        fmt::join(dims.begin() + 1, dims.end(), "]["),
                                        fmt::join(frame_shape_, "][")),
                            core::Scope::collective);

    // Every rank reads the steps (metadata reads are collective on this file).
    const impl::Where step_where{file_name, step_path};
    Handle step_space = impl::dget_space(step_.id(), step_where);
    const auto n_frames = impl::sget_simple_extent_dims(step_space.id(), step_where).at(0);
    std::vector<std::int64_t> steps(std::max<hsize_t>(n_frames, 1));
    if (n_frames > 0) {
        Handle mem_space = impl::screate_simple({n_frames}, {}, step_where);
        impl::dread(step_.id(), H5T_NATIVE_INT64, mem_space.id(), step_space.id(), dxpl_.id(),
                    steps.data(), step_where);
    }
    hsize_t keep = 0;
    while (keep < n_frames && static_cast<std::uint64_t>(steps[keep]) < resume_step)
        ++keep;
    std::vector<hsize_t> value_dims(dims.begin(), dims.end());
    value_dims[0] = keep;
    impl::dset_extent(step_.id(), {keep}, step_where);
    impl::dset_extent(time_.id(), {keep}, {file_name, time_path});
    impl::dset_extent(value_.id(), value_dims, {file_name, value_path});
    // Shrinking a partly kept chunk rewrites it (fill of the dropped part) through MPI-IO;
    // without a sync and a barrier, that write may land after the next frame's write to the
    // same chunk (MPI-IO orders conflicting writes of different ranks only across a sync).
    file_->flush();
    file_->comm().barrier();
    frames_ = keep;
}

void Series::append(std::int64_t step, double time, std::span<const double> values, bool flush) {
    core::require(file_ != nullptr && file_->is_open(), "Series::append on a closed file");
    const auto& comm = file_->comm();
    const std::string& file_name = file_->path();
    const int rank = comm.rank();

    // Rows this rank holds, and where they start; sizes are checked collectively so a
    // mismatch on one rank becomes the same error everywhere instead of a hang.
    // Debug builds: every rank must append the same frame (PETSc-style agreement check).
    par::check_same(comm, step, "Series::append step of " + path_);
    par::check_same(comm, static_cast<std::int64_t>(frames_), "Series::append frame of " + path_);
    const std::uint64_t frame_elements = product(frame_shape_);
    std::uint64_t n_local = 0;
    std::uint64_t row_elements = 0;
    bool bad_size = false;
    if (distributed_) {
        row_elements = product({frame_shape_.begin() + 1, frame_shape_.end()});
        if (row_elements == 0)
            bad_size = !values.empty();
        else if (values.size() % row_elements != 0)
            bad_size = true;
        else
            n_local = values.size() / row_elements;
    } else {
        bad_size = values.size() != frame_elements;
    }
    if (par::any(comm, bad_size))
        throw core::InternalError(fmt::format(
            "Series '{}' in '{}': a rank passed {} values (this rank: {}), expected {}", path_,
            file_name,
            distributed_ ? "a number of values that is not whole rows" : "the wrong number of",
            values.size(),
            distributed_ ? fmt::format("a multiple of {}", row_elements)
                         : fmt::format("{}", frame_elements)));
    // With zero-width rows nobody's row count can be told from its values (and nothing is
    // written), so only rows of positive width are counted.
    if (distributed_ && row_elements > 0) {
        row_offset_ = par::exclusive_prefix_sum(comm, n_local);
        const std::uint64_t n_total = par::total(comm, n_local);
        if (n_total != n_global_)
            throw core::InternalError(
                fmt::format("Series '{}' in '{}': ranks hold {} rows in total, the series has {}",
                            path_, file_name, n_total, n_global_));
    }

    write_frames(1, distributed_ ? n_local : (rank == 0 ? 1 : 0), values.data(),
                 std::span(&step, 1), std::span(&time, 1), flush);
}

void Series::append_frames(std::span<const std::int64_t> steps, std::span<const double> times,
                           std::span<const double> values, bool flush) {
    core::require(file_ != nullptr && file_->is_open(), "Series::append_frames on a closed file");
    core::require(!distributed_, "Series::append_frames: replicated series only");
    const auto& comm = file_->comm();
    const std::string& file_name = file_->path();
    const std::uint64_t n = steps.size();
    par::check_same(comm, static_cast<std::int64_t>(n), "Series::append_frames count of " + path_);
    par::check_same(comm, static_cast<std::int64_t>(frames_),
                    "Series::append_frames frame of " + path_);
    const std::uint64_t frame_elements = product(frame_shape_);
    if (par::any(comm, times.size() != n || values.size() != n * frame_elements))
        throw core::InternalError(
            fmt::format("Series '{}' in '{}': append_frames of {} steps got {} times and {} values "
                        "(this rank), expected {} values",
                        path_, file_name, n, times.size(), values.size(), n * frame_elements));
    if (n == 0)
        return;

    write_frames(n, comm.rank() == 0 ? n : 0, values.data(), steps, times, flush);
}

void Series::write_frames(std::uint64_t n, std::uint64_t rows, const double* values,
                          std::span<const std::int64_t> steps, std::span<const double> times,
                          bool flush) {
    const std::string& file_name = file_->path();
    const hsize_t t = frames_;
    std::vector<hsize_t> value_dims{t + n};
    value_dims.insert(value_dims.end(), frame_shape_.begin(), frame_shape_.end());
    const std::string value_path = join_path(path_, "value");
    const impl::Where value_where{file_name, value_path};
    impl::dset_extent(step_.id(), {t + n}, {file_name, join_path(path_, "step")});
    impl::dset_extent(time_.id(), {t + n}, {file_name, join_path(path_, "time")});
    impl::dset_extent(value_.id(), value_dims, value_where);

    // A collective write to a dataset of total size zero fails in HDF5 1.10.8 ("addr
    // overflow"); frame_shape_ is the same on every rank, so all skip together.
    last_collective_ = false;
    if (product(frame_shape_) > 0) {
        Handle file_space = impl::dget_space(value_.id(), value_where);
        std::vector<hsize_t> start(value_dims.size(), 0);
        std::vector<hsize_t> count(value_dims.begin(), value_dims.end());
        start[0] = t;
        count[0] = n;
        if (distributed_) { // one frame: this rank's rows of it
            start[1] = row_offset_;
            count[1] = rows;
        } else { // rank 0 writes the n frames, the others nothing
            count[0] = rows;
        }
        const bool mine = rows > 0 && product({count.begin() + 1, count.end()}) > 0;
        // The memory space has the selection's shape: with a flat 1-D memory space HDF5 maps
        // element by element to chunks (measured: 0.10 -> 0.24-0.46 GB/s per frame write).
        Handle mem_space = mine ? impl::screate_simple(count, {}, value_where)
                                : impl::screate_simple({1}, {}, value_where);
        if (mine) {
            impl::sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, count, value_where);
        } else {
            impl::sselect_none(file_space.id(), value_where);
            impl::sselect_none(mem_space.id(), value_where);
        }
        const double dummy = 0.0; // H5Dwrite wants a buffer even for an empty selection
        impl::dwrite(value_.id(), H5T_NATIVE_DOUBLE, mem_space.id(), file_space.id(), dxpl_.id(),
                     mine ? values : &dummy, value_where);
        const H5D_mpio_actual_io_mode_t mode =
            impl::pget_mpio_actual_io_mode(dxpl_.id(), value_where);
        last_collective_ =
            mode == H5D_MPIO_CHUNK_COLLECTIVE || mode == H5D_MPIO_CONTIGUOUS_COLLECTIVE;
    }
    write_scalars(step_, H5T_NATIVE_INT64, steps.data(), n, "step");
    write_scalars(time_, H5T_NATIVE_DOUBLE, times.data(), n, "time");
    if (flush)
        file_->flush();
    frames_ += n;
}

void Series::write_scalars(const Handle& dataset, hid_t mem_type, const void* values,
                           std::uint64_t n, const char* name) {
    const impl::Where where{file_->path(), join_path(path_, name)};
    Handle file_space = impl::dget_space(dataset.id(), where);
    Handle mem_space = impl::screate_simple({n}, {}, where);
    if (file_->comm().rank() == 0) {
        impl::sselect_hyperslab(file_space.id(), H5S_SELECT_SET, {frames_}, {n}, where);
    } else {
        impl::sselect_none(file_space.id(), where);
        impl::sselect_none(mem_space.id(), where);
    }
    impl::dwrite(dataset.id(), mem_type, mem_space.id(), file_space.id(), dxpl_.id(), values,
                 where);
}

} // namespace moesim::io
