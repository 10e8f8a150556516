# scripts/corpus-check gives the profiled build this file as CMAKE_TOOLCHAIN_FILE (the one way
# into a project's CMake run from the environment): it only asks for gtest-cases.cmake at the
# end of every project().
set(CMAKE_PROJECT_INCLUDE ${CMAKE_CURRENT_LIST_DIR}/gtest-cases.cmake)
