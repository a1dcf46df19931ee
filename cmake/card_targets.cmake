# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# One way to declare the project's targets, so that every library, binary and
# test gets the same warnings, the one include root (the repository's: headers
# are included as "server/storage/...", "stress/...", "tests/support/...") and,
# for tests, a ctest label.
#
#   card_cc_library(NAME SRCS a.cc b.cc DEPS public... PRIVATE_DEPS private...)
#     No SRCS: a header-only (INTERFACE) library.
#   card_cc_binary(NAME SRCS main.cc DEPS ... [INSTALL])
#   card_cc_test(NAME SRCS x_test.cc DEPS ... LABEL unit|pg [TIMEOUT s]
#                [DEFINES A=B ...] [NEEDS_SERVER])
#     LABEL unit: pure logic, each GoogleTest case its own ctest entry.
#     LABEL pg: one ctest entry per binary (the binary starts one PostgreSQL
#     for all its tests); NEEDS_SERVER builds card-server first.
include_guard(GLOBAL)
include(GoogleTest)

function(card_cc_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  if(NOT ARG_SRCS)
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(${name} ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  target_compile_options(${name} PRIVATE ${CARD_WARNINGS})
endfunction()

function(card_cc_binary name)
  cmake_parse_arguments(ARG "INSTALL" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_compile_options(${name} PRIVATE ${CARD_WARNINGS})
  if(ARG_INSTALL)
    install(TARGETS ${name} RUNTIME DESTINATION bin)
  endif()
endfunction()

function(card_cc_test name)
  cmake_parse_arguments(ARG "NEEDS_SERVER" "LABEL;TIMEOUT" "SRCS;DEPS;DEFINES" ${ARGN})
  if(NOT ARG_LABEL STREQUAL "unit" AND NOT ARG_LABEL STREQUAL "pg")
    message(FATAL_ERROR "card_cc_test(${name}): LABEL must be unit or pg")
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_compile_options(${name} PRIVATE ${CARD_WARNINGS})
  if(ARG_DEFINES)
    target_compile_definitions(${name} PRIVATE ${ARG_DEFINES})
  endif()
  if(ARG_NEEDS_SERVER)
    add_dependencies(${name} card-server)
  endif()
  if(ARG_LABEL STREQUAL "unit")
    gtest_discover_tests(${name} PROPERTIES LABELS unit)
  else()
    if(NOT ARG_TIMEOUT)
      set(ARG_TIMEOUT 600)
    endif()
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS pg TIMEOUT ${ARG_TIMEOUT})
  endif()
endfunction()
