#pragma once
// RAII ownership of one HDF5 identifier (file, group, dataset, dataspace, attribute,
// property list, datatype): move-only, closed with the matching H5?close in the destructor,
// which never throws (HighFive's H5Object). Users: everything in io. The id type is
// declared here without <hdf5.h>, so io's public headers keep HDF5 out of their users.

#include <cstdint>

namespace moesim::io {

/// An HDF5 identifier: the type of hid_t (int64_t since HDF5 1.10; handle.cpp checks it).
using HdfId = std::int64_t;

/// Owns an HDF5 id. Local.
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(HdfId id) noexcept : id_(id) {}
    Handle(Handle&& other) noexcept : id_(other.release()) {}
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle();

    HdfId id() const noexcept { return id_; }
    bool valid() const noexcept { return id_ >= 0; }
    /// Gives up ownership without closing.
    HdfId release() noexcept;
    /// Closes now (if valid); failures are logged as warnings, never thrown.
    void reset() noexcept;

private:
    HdfId id_ = -1; // H5I_INVALID_HID
};

} // namespace moesim::io
