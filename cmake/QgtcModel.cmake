# QgtcModel.cmake: compile a neural network into a linkable library with
# qgtc, from CMake.
#
#   list(APPEND CMAKE_MODULE_PATH <qgtc source>/cmake)
#   include(QgtcModel)
#   qgtc_add_model(TARGET fashion MODEL path/to/model.onnx
#                  [TARGET_ARCH host|x86_64|aarch64|armv7em|<triple>]
#                  [MCPU cpu] [BITS n] [NAME prefix] [OPTIONS extra qgtc args...])
#   target_link_libraries(app PRIVATE fashion)
#
# Runs `qgtc MODEL --target ARCH --name NAME -MD -MF NAME.d -o NAME.o` at
# build time (add_custom_command with DEPFILE, so the object is rebuilt
# when the model, or anything qgtc read for it, changes, and when qgtc
# itself does) and makes TARGET a static library holding NAME.o whose
# include directory has NAME.h (int NAME_run(...), NAME_ARENA_SIZE...).
# NAME defaults to TARGET; TARGET_ARCH to host; BITS n quantizes the
# weights to n bits (qgtc --default-bits).  The qgtc driver is
# QGTC_EXECUTABLE (a cache variable; found on PATH when unset).
# Needs CMake 3.20 (DEPFILE with every generator).
include_guard(GLOBAL)

if(NOT QGTC_EXECUTABLE)
  find_program(QGTC_EXECUTABLE qgtc)
endif()

function(qgtc_add_model)
  cmake_parse_arguments(PARSE_ARGV 0 QM "" "TARGET;MODEL;TARGET_ARCH;MCPU;BITS;NAME" "OPTIONS")
  if(NOT QM_TARGET OR NOT QM_MODEL)
    message(FATAL_ERROR "qgtc_add_model: TARGET and MODEL are required")
  endif()
  if(QM_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "qgtc_add_model: unknown arguments: ${QM_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT QGTC_EXECUTABLE)
    message(FATAL_ERROR "qgtc_add_model: qgtc not found; set QGTC_EXECUTABLE")
  endif()
  if(NOT QM_NAME)
    set(QM_NAME ${QM_TARGET})
  endif()
  if(NOT QM_TARGET_ARCH)
    set(QM_TARGET_ARCH host)
  endif()
  get_filename_component(model "${QM_MODEL}" ABSOLUTE)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/qgtc_${QM_TARGET})
  set(obj ${dir}/${QM_NAME}.o)
  set(hdr ${dir}/${QM_NAME}.h)
  set(dep ${dir}/${QM_NAME}.d)
  set(args --target ${QM_TARGET_ARCH} --name ${QM_NAME})
  if(QM_MCPU)
    list(APPEND args -mcpu ${QM_MCPU})
  endif()
  if(QM_BITS)
    list(APPEND args --default-bits=${QM_BITS})
  endif()
  file(MAKE_DIRECTORY ${dir})
  add_custom_command(
    OUTPUT ${obj} ${hdr}
    COMMAND ${QGTC_EXECUTABLE} ${model} ${args} ${QM_OPTIONS} -MD -MF ${dep} -o ${obj}
    DEPENDS ${model} ${QGTC_EXECUTABLE}
    DEPFILE ${dep}
    COMMENT "qgtc: compiling ${QM_MODEL} for ${QM_TARGET_ARCH}"
    VERBATIM)
  # A .o listed as a source is linked as is (EXTERNAL_OBJECT).
  add_library(${QM_TARGET} STATIC ${obj} ${hdr})
  set_target_properties(${QM_TARGET} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${QM_TARGET} INTERFACE ${dir})
  # expf/logf/tanhf come from libm on hosted targets.
  if(NOT QM_TARGET_ARCH STREQUAL "armv7em")
    target_link_libraries(${QM_TARGET} INTERFACE m)
  endif()
endfunction()
