#pragma once
// A time series in the output file, H5MD style: <path>/{step[T], time[T], value[T][...]},
// extendible along T, chunked, written collectively one frame at a time and flushed, so a
// killed run keeps every frame it finished. Two layouts: distributed rows (particles, each
// rank writes its hyperslab at its MPI_Exscan offset) and replicated values (observables,
// identical on all ranks, written by rank 0 while the others select nothing).
// Users: experiments (trajectories, observables, timers).

#include "moesim/io/output_file.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace moesim::io {

/// One step/time/value series of float64 values. Collective over the file's communicator
/// for construction and append.
class Series {
public:
    /// On a file reopened by OutputFile::open_for_restart, both factories open the existing
    /// series instead (its frame shape must match; IoError otherwise) and drop its frames
    /// from the resume step on, so appending continues the interrupted run.
    ///
    /// value[T][n_global][row_shape...]: each rank owns a contiguous range of rows; ranks'
    /// ranges are in rank order (offset = rows on lower ranks). Creates the group and
    /// datasets (and any missing parent groups). Collective.
    static Series distributed(OutputFile& file, const std::string& path, std::uint64_t n_global,
                              std::vector<std::uint64_t> row_shape);

    /// value[T][shape...] (shape may be empty: a scalar per frame), identical on every rank.
    /// Collective.
    static Series replicated(OutputFile& file, const std::string& path,
                             std::vector<std::uint64_t> shape);

    /// Appends one frame and flushes the file. Distributed: `values` holds this rank's rows
    /// (n_local x prod(row_shape), row-major; n_local may be 0); the rows of all ranks must
    /// add up to n_global. Replicated: `values` has prod(shape) entries on every rank.
    /// Collective; throws IoError on HDF5 failure, InternalError on size mismatch.
    /// flush = false leaves the flush to a later append (a frame of many series flushes once:
    /// each flush is a file sync).
    void append(std::int64_t step, double time, std::span<const double> values, bool flush = true);

    /// Appends steps.size() frames in one write per dataset (replicated series only): `values`
    /// holds them in order, prod(shape) entries each, the same on every rank. For writers
    /// that buffer frames (each write of a series is collective metadata and I/O, each flush
    /// a file sync). Collective; IoError on HDF5 failure, InternalError on size mismatch.
    void append_frames(std::span<const std::int64_t> steps, std::span<const double> times,
                       std::span<const double> values, bool flush = true);

    /// Frames written so far.
    std::uint64_t frames() const noexcept { return frames_; }
    const std::string& path() const noexcept { return path_; }

    /// Whether the last value write was done collectively by MPI-IO (for tests that assert
    /// I/O really was collective; H5Pget_mpio_actual_io_mode).
    bool last_write_was_collective() const noexcept { return last_collective_; }

private:
    Series() = default;
    // Creates the group and the three datasets, and the collective transfer list.
    void create(const std::vector<std::uint64_t>& value_chunk);
    // Restart: opens the existing datasets and drops frames with step >= resume_step.
    void reopen(std::uint64_t resume_step);
    // Extends the datasets by n frames and writes them: `rows` rows of the one frame
    // (distributed, n = 1) or, replicated, all n frames on a rank with rows > 0; steps and
    // times from rank 0. Then flushes if asked and counts the frames.
    void write_frames(std::uint64_t n, std::uint64_t rows, const double* values,
                      std::span<const std::int64_t> steps, std::span<const double> times,
                      bool flush);
    // Writes the next n steps or times: rank 0 selects the elements, the others nothing.
    void write_scalars(const Handle& dataset, HdfId mem_type, const void* values, std::uint64_t n,
                       const char* name);
    OutputFile* file_ = nullptr;
    std::string path_;
    bool distributed_ = false;
    std::uint64_t n_global_ = 0;
    std::vector<std::uint64_t> frame_shape_; // value dims after T
    std::uint64_t row_offset_ = 0;           // set at first append (distributed)
    std::uint64_t frames_ = 0;
    bool last_collective_ = false;
    Handle step_, time_, value_;
    Handle dxpl_; // collective MPI-IO transfer
};

} // namespace moesim::io
