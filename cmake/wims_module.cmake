# wims_module(NAME SOURCES a.cc b.cc DEPS wims::common Boost::json ...)
# Declares the static library wims_NAME (alias wims::NAME), with includes relative to src/.
function(wims_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(wims_${name} STATIC ${ARG_SOURCES})
  add_library(wims::${name} ALIAS wims_${name})
  target_include_directories(wims_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(wims_${name} PUBLIC ${ARG_DEPS})
endfunction()

# wims_test(NAME SOURCES a_test.cc DEPS wims::x) : a GoogleTest binary registered with CTest.
# Tests are labelled so that `ctest -L unit` runs the unit tests only.
function(wims_test name)
  cmake_parse_arguments(ARG "" "LABEL" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS ${ARG_LABEL} DISCOVERY_TIMEOUT 60)
endfunction()
