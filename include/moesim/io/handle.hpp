#pragma once
// RAII ownership of one HDF5 identifier (file, group, dataset, dataspace, attribute,
// property list, datatype): move-only, closed with the matching H5?close in the destructor,
// which never throws (HighFive's H5Object). Users: everything in io.

#include <hdf5.h>

namespace moesim::io {

/// Owns an HDF5 id. Local.
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(hid_t id) noexcept : id_(id) {}
    Handle(Handle&& other) noexcept : id_(other.release()) {}
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle();

    hid_t id() const noexcept { return id_; }
    bool valid() const noexcept { return id_ >= 0; }
    /// Gives up ownership without closing.
    hid_t release() noexcept;
    /// Closes now (if valid); failures are logged as warnings, never thrown.
    void reset() noexcept;

private:
    hid_t id_ = H5I_INVALID_HID;
};

} // namespace moesim::io
