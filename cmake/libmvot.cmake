# libmvot, the installable library: the public API (api/, include/mvot/) over the stage
# libraries, as libmvot.so (only MVOT_API symbols exported) and libmvot.a (one relocatable
# object whose internal symbols are made local, so they cannot clash with a program's own),
# plus `cmake --install` of the mvot tool, its CUDA module, the headers, mvot.pc and the
# CMake package (find_package(mvot)). CONTRIBUTING.md, "Installing", says how to use them.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MVOT_LIB_STAGES mvot_shards mvot_tokenize mvot_codebook mvot_gen mvot_core)

add_library(mvot_api OBJECT ${PROJECT_SOURCE_DIR}/api/api.c)
set_target_properties(mvot_api PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
target_include_directories(mvot_api PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include)
target_compile_options(mvot_api PRIVATE ${MVOT_WARNINGS})
target_link_libraries(mvot_api PUBLIC ${MVOT_LIB_STAGES})

# ---- shared ----
add_library(mvot_shared SHARED $<TARGET_OBJECTS:mvot_api>)
set_target_properties(mvot_shared PROPERTIES OUTPUT_NAME mvot VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR} C_VISIBILITY_PRESET hidden)
target_include_directories(mvot_shared INTERFACE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(mvot_shared PRIVATE ${MVOT_LIB_STAGES})
target_link_options(mvot_shared PRIVATE -Wl,--no-undefined)

# ---- static ----
# ld -r joins every stage object and the API into one object; objcopy --localize-hidden then
# turns each hidden (internal) symbol local, as the shared library's linker would.
set(MVOT_STATIC_LIB ${PROJECT_BINARY_DIR}/libmvot.a)
set(_mvot_archives "")
foreach(lib ${MVOT_LIB_STAGES})
  list(APPEND _mvot_archives $<TARGET_FILE:${lib}>)
endforeach()
add_custom_command(
  OUTPUT ${MVOT_STATIC_LIB}
  COMMAND ${CMAKE_LINKER} -r -o ${PROJECT_BINARY_DIR}/libmvot-all.o --whole-archive
          ${_mvot_archives} --no-whole-archive $<TARGET_OBJECTS:mvot_api>
  COMMAND ${CMAKE_OBJCOPY} --localize-hidden ${PROJECT_BINARY_DIR}/libmvot-all.o
  COMMAND ${CMAKE_COMMAND} -E rm -f ${MVOT_STATIC_LIB}
  COMMAND ${CMAKE_AR} rcs ${MVOT_STATIC_LIB} ${PROJECT_BINARY_DIR}/libmvot-all.o
  DEPENDS ${MVOT_LIB_STAGES} mvot_api $<TARGET_OBJECTS:mvot_api>
  COMMAND_EXPAND_LISTS VERBATIM
  COMMENT "libmvot.a: one object, internal symbols local")
add_custom_target(mvot_static ALL DEPENDS ${MVOT_STATIC_LIB})

# What a program linking libmvot.a also needs (libmvot.so records these itself).
# (full paths, as pkg-config found them for this build)
set(MVOT_STATIC_DEPS "")
foreach(dep PNG ZSTD XXHASH ARCHIVE PCRE2 JANSSON UTF8PROC OPENBLAS)
  get_target_property(libs PkgConfig::${dep} INTERFACE_LINK_LIBRARIES)
  list(APPEND MVOT_STATIC_DEPS ${libs})
endforeach()
list(APPEND MVOT_STATIC_DEPS ${CMAKE_THREAD_LIBS_INIT} m)
set(MVOT_PC_REQUIRES_PRIVATE "libpng libzstd libxxhash libarchive libpcre2-8 jansson libutf8proc openblas")

# ---- the GPU module: mvot looks for it beside itself, in cuda/, then in ../<libdir> ----
target_compile_definitions(mvot PRIVATE MVOT_PLUGIN_LIBDIR="${CMAKE_INSTALL_LIBDIR}")

# ---- install ----
install(TARGETS mvot RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS mvot_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${MVOT_STATIC_LIB} DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/mvot DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET mvot-cuda)
  install(TARGETS mvot-cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

set(MVOT_PC_LIBS_PRIVATE "-lpthread -lm")
# The .pc file finds its prefix from its own place (${pcfiledir}), so an install moved or
# made with `cmake --install --prefix` still works.
file(RELATIVE_PATH MVOT_PC_TO_PREFIX /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
configure_file(${PROJECT_SOURCE_DIR}/cmake/mvot.pc.in ${PROJECT_BINARY_DIR}/mvot.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mvot.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mvotConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mvotConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mvot
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mvotConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mvotConfig.cmake ${PROJECT_BINARY_DIR}/mvotConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mvot)
