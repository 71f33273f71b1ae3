# Build helpers shared by the host, the plugins and the tests:
# lintel_embed_sql() compiles a folder of migrations in, lintel_add_plugin() makes a plugin.

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

# lintel_add_plugin(<name> SOURCES <files...> [LIBS <targets...>]): builds
# build/plugins/<name>.so as a MODULE with hidden visibility and -z defs, which proves it
# reaches the host only through the ABI table. Migrations in sql/<name>/ are embedded as
# <name>_migrations.
function(lintel_add_plugin name)
  cmake_parse_arguments(P "" "OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  add_library(plugin_${name} MODULE ${P_SOURCES})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${PROJECT_BINARY_DIR}/plugins)
  endif()
  set_target_properties(plugin_${name} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    C_VISIBILITY_PRESET hidden)
  target_include_directories(plugin_${name} PRIVATE ${LINTEL_INCLUDE_DIRS})
  target_link_libraries(plugin_${name} PRIVATE PkgConfig::JANSSON SQLite::SQLite3 ${P_LIBS})
  target_link_options(plugin_${name} PRIVATE -Wl,-z,defs)
  if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/sql/${name})
    lintel_embed_sql(plugin_${name} ${name}_migrations ${PROJECT_SOURCE_DIR}/sql/${name})
  endif()
  set_property(GLOBAL APPEND PROPERTY LINTEL_PLUGINS plugin_${name})
endfunction()
