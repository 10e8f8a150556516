# Included at the end of every project() of a corpus project's profiled build (through
# gtest-cases.toolchain.cmake): once the whole tree is read, every executable that links
# GoogleTest also links scopeprof's GoogleTest listener ($SCOPEPROF_GTEST_LISTENER, the archive),
# so each of its tests is a profile case, and nothing in the project changes (docs/cases.md).
if(NOT COMMAND scopeprof_link_gtest_listener AND DEFINED ENV{SCOPEPROF_GTEST_LISTENER})
  function(scopeprof_targets_in Dir Out)
    get_property(Targets DIRECTORY ${Dir} PROPERTY BUILDSYSTEM_TARGETS)
    get_property(Subdirs DIRECTORY ${Dir} PROPERTY SUBDIRECTORIES)
    foreach(Sub ${Subdirs})
      scopeprof_targets_in(${Sub} More)
      list(APPEND Targets ${More})
    endforeach()
    set(${Out} ${Targets} PARENT_SCOPE)
  endfunction()

  function(scopeprof_link_gtest_listener)
    scopeprof_targets_in(${CMAKE_SOURCE_DIR} Targets)
    foreach(Target ${Targets})
      get_target_property(Type ${Target} TYPE)
      get_target_property(Libraries ${Target} LINK_LIBRARIES)
      # Properties, not target_link_libraries: a target's own calls may use either signature.
      # First on the line: the listener's references to GoogleTest must come before its
      # archive, which a program that links GoogleTest without using it (leveldb's c_test)
      # would otherwise not have pulled in.
      if(Type STREQUAL "EXECUTABLE" AND Libraries MATCHES "gtest|GTest|gmock|GMock")
        set_property(TARGET ${Target} PROPERTY LINK_LIBRARIES
          $ENV{SCOPEPROF_GTEST_LISTENER} ${Libraries})
        set_property(TARGET ${Target} APPEND PROPERTY LINK_OPTIONS "LINKER:-u,scopeprof_gtest_cases")
        message(STATUS "scopeprof: ${Target} links the GoogleTest listener")
      endif()
    endforeach()
  endfunction()

  cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL scopeprof_link_gtest_listener)
endif()
