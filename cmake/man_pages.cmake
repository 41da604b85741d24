# cmake/man_pages.cmake — the man pages, made at build time from the built program's own
# --help (cmake -P; CMakeLists.txt runs it after linking segscore). segscore(1) comes from
# `segscore --help`, and one page per command listed there, segscore-<command>(1), from
# `segscore <command> --help`; cmake/help2man.awk turns each text into roff. The help text
# is the one source: nothing here knows a command or an option.
#
#   cmake -DSEGSCORE=path/to/segscore -DAWK=awk -DSCRIPT=cmake/help2man.awk -DOUT=dir/man1
#         -DDESCRIPTION="one line for NAME" -P cmake/man_pages.cmake
#
# The pages go to OUT (nothing else: it is installed as it is), the help texts they were
# made from to OUT/../help.
foreach(var SEGSCORE AWK SCRIPT OUT DESCRIPTION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "man_pages.cmake: -D${var}=... is required")
  endif()
endforeach()

# Run the program with `args`; its standard output goes to `file`. A failure stops the build.
function(capture file)
  execute_process(COMMAND ${SEGSCORE} ${ARGN} OUTPUT_FILE ${file} RESULT_VARIABLE rc
    ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "man pages: `segscore ${ARGN}` failed (${rc}): ${err}")
  endif()
endfunction()

# Turn help text `file` into page `page` (cmd empty: the top-level page).
function(render cmd file page version top)
  execute_process(COMMAND ${AWK} -v cmd=${cmd} -v version=${version} -v desc=${DESCRIPTION}
    -f ${SCRIPT} ${top} ${file} OUTPUT_FILE ${OUT}/${page}.1 RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "man pages: ${AWK} failed on ${file} (${rc})")
  endif()
endfunction()

get_filename_component(work ${OUT}/../help ABSOLUTE) # the help texts, beside the pages
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work} ${OUT})
file(GLOB old ${OUT}/*.1)
if(old)
  file(REMOVE ${old}) # a command that is gone takes its page with it
endif()

execute_process(COMMAND ${SEGSCORE} --version OUTPUT_VARIABLE version
  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "man pages: `segscore --version` failed (${rc})")
endif()
capture(${work}/segscore.txt --help)
render("" ${work}/segscore.txt segscore "${version}" ${work}/segscore.txt)

# The commands: the first word of each line indented under "commands:".
file(STRINGS ${work}/segscore.txt lines)
set(in_list OFF)
set(commands "")
foreach(line IN LISTS lines)
  if(line MATCHES "^commands:")
    set(in_list ON)
  elseif(in_list AND line MATCHES "^  +([a-z][a-z0-9-]*)( |$)")
    list(APPEND commands ${CMAKE_MATCH_1})
  elseif(in_list)
    set(in_list OFF)
  endif()
endforeach()
if(NOT commands)
  message(FATAL_ERROR "man pages: no command listed under \"commands:\" in `segscore --help`")
endif()
foreach(cmd IN LISTS commands)
  capture(${work}/${cmd}.txt ${cmd} --help)
  render(${cmd} ${work}/${cmd}.txt segscore-${cmd} "${version}" ${work}/segscore.txt)
endforeach()
list(LENGTH commands n)
message(STATUS "man pages: segscore(1) and ${n} command pages in ${OUT}")
