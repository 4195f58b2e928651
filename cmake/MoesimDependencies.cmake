# Finds every dependency, each from its Debian 12 package (scripts/install-deps),
# and fails with a message that says which package is missing.
find_package(MPI REQUIRED COMPONENTS C CXX)

set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR
    "moesim needs the parallel (MPI) build of HDF5, but found a serial one "
    "(${HDF5_C_LIBRARIES}). On Debian install libhdf5-openmpi-dev, or point "
    "HDF5_C_COMPILER_EXECUTABLE at h5pcc.")
endif()
if(NOT TARGET hdf5::hdf5)
  add_library(hdf5::hdf5 INTERFACE IMPORTED)
  target_include_directories(hdf5::hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS})
  target_link_libraries(hdf5::hdf5 INTERFACE ${HDF5_C_LIBRARIES})
  target_compile_definitions(hdf5::hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
endif()

find_package(Boost 1.74 REQUIRED COMPONENTS mpi)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(tomlplusplus 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(doctest REQUIRED)
# k-nearest-neighbour search of the entropy estimate (model/knn_entropy), header-only.
find_package(nanoflann QUIET)
if(NOT nanoflann_FOUND)
  message(FATAL_ERROR "nanoflann not found: install libnanoflann-dev")
endif()

find_path(RANDOM123_INCLUDE_DIR Random123/philox.h)
if(NOT RANDOM123_INCLUDE_DIR)
  message(FATAL_ERROR "Random123 headers not found: install librandom123-dev")
endif()
add_library(moesim::random123 INTERFACE IMPORTED)
target_include_directories(moesim::random123 SYSTEM INTERFACE "${RANDOM123_INCLUDE_DIR}")
