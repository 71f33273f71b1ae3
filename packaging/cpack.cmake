# The Debian package (`make deb`, or `cpack -G DEB` in a build directory): what `cmake --install`
# lays out under /usr, plus the systemd unit, /etc/lintel/lintel.json and the maintainer
# scripts that create the `lintel` system user (docs/operations.md "Debian package").
include(GNUInstallDirs)

# Only a package build installs these: a `cmake --install --prefix ~/x` stays under its prefix.
option(LINTEL_PACKAGE_FILES "Install the systemd unit and /etc/lintel/lintel.json" OFF)
if(LINTEL_PACKAGE_FILES)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/lintel.service DESTINATION lib/systemd/system)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/lintel.json DESTINATION /etc/lintel)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/configuration.md
          ${PROJECT_SOURCE_DIR}/docs/sql-functions.md ${PROJECT_SOURCE_DIR}/docs/api.md
          DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()

set(CPACK_PACKAGE_NAME lintel)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "lintel maintainers <lintel@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "REST backend in C with a SQLite extension and plugins")
set(CPACK_PACKAGE_DESCRIPTION "lintel serves a JSON API (accounts, numbers, tasks, data points,\n\
avatars, live events) from one C binary over SQLite, with handler plugins, Swagger UI at\n\
/docs, an operator page at /admin and Prometheus metrics.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # lintel_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from the binaries themselves (dpkg-shlibdeps), plus what the scripts and
# `lintel shell` use.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
