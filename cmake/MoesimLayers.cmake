# One library per layer (core, par, io, model, fit, experiments), linked downward only.
# Each layer compiles against an include tree of its own that holds its headers and, through
# the layers it links, those below it: an include of a higher layer's header is a build
# error ("file not found"), as are private headers of another layer. Third-party backends
# stay where they belong: HDF5 is private to io, toml++ to core.

set(MOESIM_LAYER_TREES "${CMAKE_BINARY_DIR}/layer_include")

# moesim_add_layer(model DEPENDS par PUBLIC_LIBS Eigen3::Eigen PRIVATE_LIBS ... [EXTRA_SOURCES ...])
function(moesim_add_layer layer)
  cmake_parse_arguments(L "" "" "DEPENDS;PUBLIC_LIBS;PRIVATE_LIBS;EXTRA_SOURCES" ${ARGN})
  set(tree "${MOESIM_LAYER_TREES}/${layer}")
  set(private_tree "${MOESIM_LAYER_TREES}/${layer}_src")
  file(MAKE_DIRECTORY "${tree}/moesim" "${private_tree}")
  if(EXISTS "${PROJECT_SOURCE_DIR}/include/moesim/${layer}" AND NOT EXISTS "${tree}/moesim/${layer}")
    file(CREATE_LINK "${PROJECT_SOURCE_DIR}/include/moesim/${layer}" "${tree}/moesim/${layer}" SYMBOLIC)
  endif()
  if(NOT EXISTS "${private_tree}/${layer}")
    file(CREATE_LINK "${PROJECT_SOURCE_DIR}/src/${layer}" "${private_tree}/${layer}" SYMBOLIC)
  endif()
  file(GLOB sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/src/${layer}/*.cpp")
  set(target "moesim_${layer}")
  add_library(${target} ${sources} ${L_EXTRA_SOURCES})
  target_include_directories(${target} PUBLIC "${tree}" PRIVATE "${private_tree}")
  foreach(dep IN LISTS L_DEPENDS)
    target_link_libraries(${target} PUBLIC "moesim_${dep}")
  endforeach()
  target_link_libraries(${target} PUBLIC ${L_PUBLIC_LIBS} PRIVATE ${L_PRIVATE_LIBS})
  moesim_set_warnings(${target})
endfunction()
