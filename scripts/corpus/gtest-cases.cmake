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

  # Whether Target links GoogleTest, itself or through a library target it links: fmt's tests
  # link test-main, a static library that links gtest (matching the program's own list alone
  # left 16 of its 20 GoogleTest programs without the listener). Seen: the targets on the path,
  # against cycles of static libraries.
  function(scopeprof_links_gtest Target Out)
    set(Seen ${ARGN} ${Target})
    get_target_property(Libraries ${Target} LINK_LIBRARIES)
    get_target_property(Interface ${Target} INTERFACE_LINK_LIBRARIES)
    foreach(Library IN LISTS Libraries Interface)
      if(Library MATCHES "gtest|GTest|gmock|GMock")
        set(${Out} TRUE PARENT_SCOPE)
        return()
      endif()
      if(TARGET "${Library}" AND NOT Library IN_LIST Seen)
        scopeprof_links_gtest(${Library} Found ${Seen})
        if(Found)
          set(${Out} TRUE PARENT_SCOPE)
          return()
        endif()
      endif()
    endforeach()
    set(${Out} FALSE PARENT_SCOPE)
  endfunction()

  function(scopeprof_link_gtest_listener)
    scopeprof_targets_in(${CMAKE_SOURCE_DIR} Targets)
    foreach(Target ${Targets})
      get_target_property(Type ${Target} TYPE)
      if(NOT Type STREQUAL "EXECUTABLE")
        continue()
      endif()
      scopeprof_links_gtest(${Target} LinksGtest)
      get_target_property(Libraries ${Target} LINK_LIBRARIES)
      if(NOT Libraries)
        set(Libraries "")
      endif()
      # Properties, not target_link_libraries: a target's own calls may use either signature.
      # First on the line: the listener's references to GoogleTest must come before its
      # archive, which a program that links GoogleTest without using it (leveldb's c_test)
      # would otherwise not have pulled in.
      if(LinksGtest)
        set_property(TARGET ${Target} PROPERTY LINK_LIBRARIES
          $ENV{SCOPEPROF_GTEST_LISTENER} ${Libraries})
        set_property(TARGET ${Target} APPEND PROPERTY LINK_OPTIONS "LINKER:-u,scopeprof_gtest_cases")
        message(STATUS "scopeprof: ${Target} links the GoogleTest listener")
      endif()
    endforeach()
  endfunction()

  cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL scopeprof_link_gtest_listener)
endif()
