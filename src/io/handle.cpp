#include "moesim/io/handle.hpp"

#include "moesim/io/hdf5_errors.hpp"

#include "io/warn.hpp"

#include <hdf5.h>

#include <string>
#include <type_traits>

namespace moesim::io {

static_assert(std::is_same_v<HdfId, hid_t> && H5I_INVALID_HID == -1,
              "io::HdfId must be HDF5's hid_t");

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        id_ = other.release();
    }
    return *this;
}

Handle::~Handle() {
    reset();
}

hid_t Handle::release() noexcept {
    hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
}

void Handle::reset() noexcept {
    if (id_ < 0)
        return;
    const hid_t id = release();
    // An id closed together with its file (H5F_CLOSE_STRONG) is no longer valid: nothing to do.
    if (H5Iis_valid(id) <= 0)
        return;
    herr_t status = -1;
    const H5I_type_t type = H5Iget_type(id);
    switch (type) {
    case H5I_FILE:
        status = H5Fclose(id);
        break;
    case H5I_GROUP:
        status = H5Gclose(id);
        break;
    case H5I_DATATYPE:
        status = H5Tclose(id);
        break;
    case H5I_DATASPACE:
        status = H5Sclose(id);
        break;
    case H5I_DATASET:
        status = H5Dclose(id);
        break;
    case H5I_ATTR:
        status = H5Aclose(id);
        break;
    case H5I_GENPROP_LST:
        status = H5Pclose(id);
        break;
    default:
        impl::warn("HDF5 id " + std::to_string(id) + " of type " +
                   std::to_string(static_cast<int>(type)) + " cannot be closed by io::Handle");
        return;
    }
    if (status < 0) {
        try {
            impl::warn("closing HDF5 id " + std::to_string(id) +
                       " failed: " + take_hdf5_error_stack());
        } catch (...) {
            H5Eclear2(H5E_DEFAULT);
        }
    }
}

} // namespace moesim::io
