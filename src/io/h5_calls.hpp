#pragma once
// One checked function per HDF5 C call used by moesim (HighFive's pattern): each calls the C
// function once, tests its documented failure sentinel and throws core::IoError with the
// verb, the file, the object path and the walked HDF5 error stack. Ids come back owned by a
// Handle. Internal to io: users go through OutputFile, Series, inspect and the readers.

#include "moesim/io/handle.hpp"

#include <hdf5.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::io::impl {

/// Context for error messages: the file name and the object path being worked on.
struct Where {
    std::string_view file;
    std::string_view object;
};

/// Throws IoError("<verb>", file, object, "<call> failed: <walked stack>"). Local.
[[noreturn]] void fail(const char* call, const char* verb, const Where& where);

// Files
Handle fcreate(const char* name, unsigned flags, hid_t fcpl, hid_t fapl, const Where& where);
Handle fopen(const char* name, unsigned flags, hid_t fapl, const Where& where);
void fflush(hid_t object, H5F_scope_t scope, const Where& where);
/// Closes a file id (collective for MPI-IO files).
void fclose(hid_t file, const Where& where);
bool fis_hdf5(const char* name, const Where& where);

// Property lists
Handle pcreate(hid_t cls, const Where& where);
void pset_fapl_mpio(hid_t fapl, MPI_Comm comm, MPI_Info info, const Where& where);
void pset_all_coll_metadata_ops(hid_t plist, bool collective, const Where& where);
void pset_coll_metadata_write(hid_t fapl, bool collective, const Where& where);
void pset_fclose_degree(hid_t fapl, H5F_close_degree_t degree, const Where& where);
void pset_create_intermediate_group(hid_t lcpl, bool create, const Where& where);
void pset_chunk(hid_t dcpl, const std::vector<hsize_t>& dims, const Where& where);
void pset_fill_time(hid_t dcpl, H5D_fill_time_t fill_time, const Where& where);
void pset_dxpl_mpio(hid_t dxpl, H5FD_mpio_xfer_t mode, const Where& where);
H5D_mpio_actual_io_mode_t pget_mpio_actual_io_mode(hid_t dxpl, const Where& where);

// Dataspaces
Handle screate(H5S_class_t type, const Where& where);
/// `maxdims` empty means maxdims = dims.
Handle screate_simple(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& maxdims,
                      const Where& where);
void sselect_hyperslab(hid_t space, H5S_seloper_t op, const std::vector<hsize_t>& start,
                       const std::vector<hsize_t>& count, const Where& where);
void sselect_none(hid_t space, const Where& where);
H5S_class_t sget_simple_extent_type(hid_t space, const Where& where);
int sget_simple_extent_ndims(hid_t space, const Where& where);
/// Current dimensions (H5Sget_simple_extent_dims with ndims from the call above).
std::vector<hsize_t> sget_simple_extent_dims(hid_t space, const Where& where);

// Datatypes
Handle tcopy(hid_t type, const Where& where);
void tset_size(hid_t type, std::size_t size, const Where& where);
void tset_strpad(hid_t type, H5T_str_t pad, const Where& where);
void tset_cset(hid_t type, H5T_cset_t cset, const Where& where);
H5T_class_t tget_class(hid_t type, const Where& where);
std::size_t tget_size(hid_t type, const Where& where);
H5T_sign_t tget_sign(hid_t type, const Where& where);
bool tis_variable_str(hid_t type, const Where& where);

// Groups, links, objects
Handle gcreate(hid_t loc, const char* name, hid_t lcpl, const Where& where);
Handle oopen(hid_t loc, const char* name, const Where& where);
bool lexists(hid_t loc, const char* name, const Where& where);
/// True if every component of the absolute `path` exists (H5Lexists alone fails when a
/// parent group is missing).
bool path_exists(hid_t file, const std::string& path, const Where& where);
void literate(hid_t group, H5_index_t index, H5_iter_order_t order, H5L_iterate_t op, void* data,
              const Where& where);
H5I_type_t iget_type(hid_t id, const Where& where);

// Datasets
Handle dcreate(hid_t loc, const char* name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl,
               const Where& where);
Handle dopen(hid_t loc, const char* name, const Where& where);
void dset_extent(hid_t dataset, const std::vector<hsize_t>& dims, const Where& where);
Handle dget_space(hid_t dataset, const Where& where);
Handle dget_type(hid_t dataset, const Where& where);
void dwrite(hid_t dataset, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
            const void* buf, const Where& where);
void dread(hid_t dataset, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl, void* buf,
           const Where& where);

// Attributes
Handle acreate(hid_t loc, const char* name, hid_t type, hid_t space, const Where& where);
Handle aopen(hid_t loc, const char* name, const Where& where);
void awrite(hid_t attr, hid_t mem_type, const void* buf, const Where& where);
void aread(hid_t attr, hid_t mem_type, void* buf, const Where& where);
Handle aget_space(hid_t attr, const Where& where);
Handle aget_type(hid_t attr, const Where& where);
void aiterate(hid_t loc, H5_index_t index, H5_iter_order_t order, H5A_operator2_t op, void* data,
              const Where& where);

// Memory owned by the library (variable-length strings read back)
void free_memory(void* buf, const Where& where);

// Library
/// "major.minor.release".
std::string get_libversion(const Where& where);

} // namespace moesim::io::impl
