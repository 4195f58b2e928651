# Test registration. MPI tests are registered once per rank count (never by discovery),
# oversubscribed so 3-4 ranks run on a 2-core machine.
set(MOESIM_MPI_TEST_ENV
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)
set(MOESIM_TEST_RANKS 1 2 3 4)

include(doctest)

# moesim_add_unit_test(core SOURCES a.cpp b.cpp): one serial doctest binary per layer.
function(moesim_add_unit_test layer)
  cmake_parse_arguments(T "" "" "SOURCES" ${ARGN})
  set(target "test_unit_${layer}")
  add_executable(${target} ${T_SOURCES})
  target_link_libraries(${target} PRIVATE moesim_all doctest::doctest moesim_unit_test_main)
  target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}/src")
  moesim_set_warnings(${target})
  doctest_discover_tests(${target} TEST_PREFIX "unit.${layer}." PROPERTIES LABELS unit)
endfunction()

# moesim_add_mpi_test(par.exchange SOURCES x.cpp [NP 1 2 3 4]): runs under mpiexec at each NP.
function(moesim_add_mpi_test name)
  cmake_parse_arguments(T "" "" "SOURCES;NP" ${ARGN})
  if(NOT T_NP)
    set(T_NP ${MOESIM_TEST_RANKS})
  endif()
  string(REPLACE "." "_" target "test_mpi_${name}")
  add_executable(${target} ${T_SOURCES})
  target_link_libraries(${target} PRIVATE moesim_all doctest::doctest moesim_mpi_test_main)
  target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}/src" "${PROJECT_SOURCE_DIR}/tests/mpi")
  moesim_set_warnings(${target})
  foreach(np IN LISTS T_NP)
    set(test "mpi.${name}.np${np}")
    set(dir "${CMAKE_CURRENT_BINARY_DIR}/rundir/${test}")
    file(MAKE_DIRECTORY "${dir}")
    add_test(NAME ${test} WORKING_DIRECTORY "${dir}"
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np}
                     ${MPIEXEC_PREFLAGS} $<TARGET_FILE:${target}> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(${test} PROPERTIES ENVIRONMENT "${MOESIM_MPI_TEST_ENV}"
                         PROCESSORS ${np} TIMEOUT 300 LABELS "mpi;np${np}")
  endforeach()
endfunction()

# moesim_add_cli_test(run.default SCRIPT tests/cli/x.sh [ARGS ...] [LABELS ...]):
# an end-to-end shell script, given the moesim binary and a scratch directory.
function(moesim_add_cli_test name)
  cmake_parse_arguments(T "" "SCRIPT;TIMEOUT" "ARGS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(test "cli.${name}")
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/rundir/${test}")
  file(MAKE_DIRECTORY "${dir}")
  add_test(NAME ${test} WORKING_DIRECTORY "${dir}"
           COMMAND bash "${PROJECT_SOURCE_DIR}/${T_SCRIPT}" ${T_ARGS})
  set_tests_properties(${test} PROPERTIES
    ENVIRONMENT "${MOESIM_MPI_TEST_ENV};MOESIM=$<TARGET_FILE:moesim>;MPIEXEC=${MPIEXEC_EXECUTABLE};MOESIM_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    TIMEOUT ${T_TIMEOUT} LABELS "cli;${T_LABELS}")
endfunction()

# moesim_add_cli_rank_sweep(run.mfld_default RUN_SCRIPT a.sh
#                           COMPARE run.mfld_bitwise_1_to_4_ranks COMPARE_SCRIPT b.sh):
# RUN_SCRIPT NP DIR at every rank count (cli.<name>.np<N>, a fixture writing into one shared
# DIR), then COMPARE_SCRIPT DIR once all of them ran (cli.<COMPARE>).
function(moesim_add_cli_rank_sweep name)
  cmake_parse_arguments(T "" "RUN_SCRIPT;COMPARE;COMPARE_SCRIPT" "" ${ARGN})
  string(REPLACE "." "_" fixture "${name}")
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/rundir/${fixture}")
  foreach(np IN LISTS MOESIM_TEST_RANKS)
    moesim_add_cli_test(${name}.np${np} SCRIPT ${T_RUN_SCRIPT} ARGS ${np} "${dir}" LABELS "np${np}")
    set_tests_properties(cli.${name}.np${np} PROPERTIES FIXTURES_SETUP ${fixture} PROCESSORS ${np})
  endforeach()
  moesim_add_cli_test(${T_COMPARE} SCRIPT ${T_COMPARE_SCRIPT} ARGS "${dir}")
  set_tests_properties(cli.${T_COMPARE} PROPERTIES FIXTURES_REQUIRED ${fixture})
endfunction()

# moesim_add_experiment_checks(mfld CONFIG tests/cli/experiments/mfld.toml STOP MOESIM_STOP_AT=30):
# the end-to-end checks every registered experiment gets from one tiny config:
#   cli.experiment.<name>.np<N>              the config at N = 1..4 ranks completes (fixture);
#   cli.experiment.<name>.bitwise_1_to_4_ranks every dataset but /timing identical across N;
#   cli.experiment.<name>.stop_restart       stopped by STOP (a test hook standing in for a
#                                            signal) at 3 ranks, restarted at 2, identical to N=1.
function(moesim_add_experiment_checks name)
  cmake_parse_arguments(T "" "CONFIG;STOP" "" ${ARGN})
  set(fixture "experiment_${name}")
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/rundir/${fixture}")
  set(config "${PROJECT_SOURCE_DIR}/${T_CONFIG}")
  foreach(np IN LISTS MOESIM_TEST_RANKS)
    moesim_add_cli_test(experiment.${name}.np${np} SCRIPT tests/cli/experiment_run.sh
                        ARGS ${np} "${dir}" ${name} "${config}" LABELS "np${np}")
    set_tests_properties(cli.experiment.${name}.np${np} PROPERTIES
                         FIXTURES_SETUP ${fixture} PROCESSORS ${np})
  endforeach()
  moesim_add_cli_test(experiment.${name}.bitwise_1_to_4_ranks SCRIPT tests/cli/experiment_bitwise.sh
                      ARGS "${dir}" ${name})
  moesim_add_cli_test(experiment.${name}.stop_restart SCRIPT tests/cli/experiment_stop_restart.sh
                      ARGS "${dir}" ${name} "${config}" ${T_STOP} LABELS np3)
  set_tests_properties(cli.experiment.${name}.bitwise_1_to_4_ranks cli.experiment.${name}.stop_restart
                       PROPERTIES FIXTURES_REQUIRED ${fixture})
  set_tests_properties(cli.experiment.${name}.stop_restart PROPERTIES PROCESSORS 3)
endfunction()
