# dsl_build.cmake: generates the DSL parser from dsl.y with Lemon at build
# time (the generated C is never committed), into the build folder as
# dsl_parse.c/.h so the frontend/*.c glob cannot pick it up.
# Included from frontend/CMakeLists.txt after qgtc_frontend is defined.
find_program(LEMON lemon REQUIRED)
set(LEMON_TEMPLATE /usr/share/lemon/lempar.c CACHE FILEPATH "Lemon's parser template")
set(DSL_GEN_DIR ${CMAKE_CURRENT_BINARY_DIR}/dsl)
file(MAKE_DIRECTORY ${DSL_GEN_DIR})
add_custom_command(
  OUTPUT ${DSL_GEN_DIR}/dsl_parse.c ${DSL_GEN_DIR}/dsl_parse.h
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_CURRENT_SOURCE_DIR}/dsl.y ${DSL_GEN_DIR}/dsl_parse.y
  COMMAND ${LEMON} -q -T${LEMON_TEMPLATE} -d${DSL_GEN_DIR} ${DSL_GEN_DIR}/dsl_parse.y
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/dsl.y ${LEMON_TEMPLATE}
  COMMENT "Generating the DSL parser from dsl.y with Lemon")
target_sources(qgtc_frontend PRIVATE ${DSL_GEN_DIR}/dsl_parse.c ${DSL_GEN_DIR}/dsl_parse.h)
target_include_directories(qgtc_frontend PRIVATE ${DSL_GEN_DIR})
# Generated code gets no warning flags of ours, and never -Werror.
set_source_files_properties(${DSL_GEN_DIR}/dsl_parse.c PROPERTIES
  COMPILE_OPTIONS "-Wno-unused-parameter;-Wno-unused-variable;-Wno-unused-but-set-variable;-Wno-error")
