# dsv3_library(NAME folder DEPS ...): one static library per top-level folder.
# Sources are every *.cpp in the folder (recursively, except cuda/); CUDA sources are
# folder/cuda/*.cu, compiled when the CUDA backend is on.
function(dsv3_library name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  list(FILTER srcs EXCLUDE REGEX "/cuda/")
  set(cuda_srcs "")
  if(DSV3_HAVE_CUDA)
    file(GLOB_RECURSE cuda_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cuda/*.cu
                                                  ${CMAKE_CURRENT_SOURCE_DIR}/cuda/*.cpp)
  endif()
  if(NOT srcs AND NOT cuda_srcs)
    # A folder with no sources yet: an interface library, so dependents still link.
    add_library(dsv3_${name} INTERFACE)
    target_link_libraries(dsv3_${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(dsv3_${name} STATIC ${srcs} ${cuda_srcs})
  target_include_directories(dsv3_${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(dsv3_${name} PUBLIC ${ARG_DEPS} PRIVATE dsv3_warnings)
  target_compile_definitions(dsv3_${name} PUBLIC DSV3_SOURCE_DIR="${DSV3_SOURCE_DIR}")
  if(DSV3_HAVE_CUDA)
    target_compile_definitions(dsv3_${name} PUBLIC DSV3_HAVE_CUDA=1)
    set_target_properties(dsv3_${name} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
  endif()
  add_dependencies(dsv3_${name} dsv3_version_header)
endfunction()
