# Build helpers for lintel plugins, used by the source tree and installed as the CMake package
# (find_package(lintel)): lintel_embed_sql() compiles migrations in, lintel_add_plugin() makes a plugin.
#
# Expects LINTEL_INCLUDE_DIRS (the lintel headers) and the imported target PkgConfig::JANSSON.

set(LINTEL_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})

# lintel_embed_sql(<target> <symbol> <dir>): compiles every <dir>/NNNN_slug.sql into
# `const struct lintel_embedded_sql <symbol>[]` (include/lintel/migrations.h), sorted by name.
function(lintel_embed_sql target symbol dir)
  file(GLOB files CONFIGURE_DEPENDS "${dir}/*.sql")
  list(SORT files)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${symbol}.c")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} "-DFILES=${files}"
            -P ${LINTEL_CMAKE_DIR}/embed_sql.cmake
    DEPENDS ${files} ${LINTEL_CMAKE_DIR}/embed_sql.cmake
    COMMENT "Embedding migrations ${symbol}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()

# lintel_add_plugin(<name> SOURCES <files...> [SQL <dir>] [OUTPUT_DIR <dir>] [LIBS <targets...>]
#                   [INSTALL]): builds <name>.so as a MODULE with hidden visibility and -z defs,
# which proves it reaches the host only through the ABI table. Migrations in SQL (default:
# sql/<name>/ of the project, or sql/ beside the plugin's CMakeLists.txt) are embedded as
# <name>_migrations. INSTALL puts it in the plugin directory (LINTEL_PLUGIN_INSTALL_DIR).
function(lintel_add_plugin name)
  cmake_parse_arguments(P "INSTALL" "OUTPUT_DIR;SQL" "SOURCES;LIBS" ${ARGN})
  add_library(plugin_${name} MODULE ${P_SOURCES})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${PROJECT_BINARY_DIR}/plugins)
  endif()
  set_target_properties(plugin_${name} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    C_VISIBILITY_PRESET hidden)
  target_include_directories(plugin_${name} PRIVATE ${LINTEL_INCLUDE_DIRS})
  target_link_libraries(plugin_${name} PRIVATE PkgConfig::JANSSON ${P_LIBS})
  target_link_options(plugin_${name} PRIVATE -Wl,-z,defs)
  if(NOT P_SQL)
    if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/sql/${name})
      set(P_SQL ${PROJECT_SOURCE_DIR}/sql/${name})
    elseif(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/sql)
      set(P_SQL ${CMAKE_CURRENT_SOURCE_DIR}/sql)
    endif()
  endif()
  if(P_SQL)
    lintel_embed_sql(plugin_${name} ${name}_migrations ${P_SQL})
  endif()
  if(P_INSTALL)
    install(TARGETS plugin_${name} LIBRARY DESTINATION ${LINTEL_PLUGIN_INSTALL_DIR})
  endif()
  set_property(GLOBAL APPEND PROPERTY LINTEL_PLUGINS plugin_${name})
endfunction()
