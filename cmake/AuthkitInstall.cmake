# Installs the libraries, headers, a pkg-config file and a CMake package config, so that
# both `pkg-config --libs authkit` and `find_package(authkit)` work.
include(CMakePackageConfigHelpers)

install(TARGETS authkit authkit_static authkit_mhd authkit_mhd_static EXPORT authkitTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

install(EXPORT authkitTargets NAMESPACE authkit:: FILE authkitTargets.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/authkit)
configure_package_config_file(cmake/authkitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/authkitConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/authkit)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/authkitConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/authkitConfig.cmake
  ${PROJECT_BINARY_DIR}/authkitConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/authkit)

# The .pc file finds its prefix relative to itself, so the install tree can be moved
# (and `cmake --install --prefix` works).
file(RELATIVE_PATH AUTHKIT_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
configure_file(packaging/authkit.pc.in ${PROJECT_BINARY_DIR}/authkit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/authkit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES docs/authkit.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES packaging/authkit.service DESTINATION ${CMAKE_INSTALL_DATADIR}/authkit)
