/* A PMPI interposer that measures where a run's MPI time goes: wall time inside each
 * collective, point-to-point and MPI-IO call, summed per function and rank, printed as JSON
 * lines at MPI_Finalize (to $MPI_TIME_OUT.<rank>, else stderr). Used by bench/run_poc_comm:
 *   mpicc -O2 -shared -fPIC -o libmpi_time.so mpi_time.c
 *   mpirun -np 2 -x LD_PRELOAD=$PWD/libmpi_time.so -x MPI_TIME_OUT=out moesim run ...
 * Time inside a collective includes waiting for the other ranks to arrive (load imbalance),
 * as it does for the run. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { n_max = 64 };
static const char* names[n_max];
static double seconds[n_max];
static long calls[n_max];
static int used;

static int slot(const char* name) {
    for (int i = 0; i < used; ++i)
        if (names[i] == name)
            return i;
    names[used] = name;
    return used++;
}

#define TIMED(name, call)                                                                      \
    do {                                                                                       \
        static int id = -1;                                                                    \
        if (id < 0)                                                                            \
            id = slot(name);                                                                   \
        const double start = PMPI_Wtime();                                                     \
        const int rc = call;                                                                   \
        seconds[id] += PMPI_Wtime() - start;                                                   \
        ++calls[id];                                                                           \
        return rc;                                                                             \
    } while (0)

static double t_init;

int MPI_Init(int* argc, char*** argv) {
    const int rc = PMPI_Init(argc, argv);
    t_init = PMPI_Wtime();
    return rc;
}
int MPI_Init_thread(int* argc, char*** argv, int required, int* provided) {
    const int rc = PMPI_Init_thread(argc, argv, required, provided);
    t_init = PMPI_Wtime();
    return rc;
}

int MPI_Allreduce(const void* s, void* r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c) {
    TIMED("MPI_Allreduce", PMPI_Allreduce(s, r, n, t, op, c));
}
int MPI_Reduce(const void* s, void* r, int n, MPI_Datatype t, MPI_Op op, int root, MPI_Comm c) {
    TIMED("MPI_Reduce", PMPI_Reduce(s, r, n, t, op, root, c));
}
int MPI_Bcast(void* b, int n, MPI_Datatype t, int root, MPI_Comm c) {
    TIMED("MPI_Bcast", PMPI_Bcast(b, n, t, root, c));
}
int MPI_Barrier(MPI_Comm c) { TIMED("MPI_Barrier", PMPI_Barrier(c)); }
int MPI_Allgather(const void* s, int sn, MPI_Datatype st, void* r, int rn, MPI_Datatype rt,
                  MPI_Comm c) {
    TIMED("MPI_Allgather", PMPI_Allgather(s, sn, st, r, rn, rt, c));
}
int MPI_Allgatherv(const void* s, int sn, MPI_Datatype st, void* r, const int* rn,
                   const int* displs, MPI_Datatype rt, MPI_Comm c) {
    TIMED("MPI_Allgatherv", PMPI_Allgatherv(s, sn, st, r, rn, displs, rt, c));
}
int MPI_Gather(const void* s, int sn, MPI_Datatype st, void* r, int rn, MPI_Datatype rt,
               int root, MPI_Comm c) {
    TIMED("MPI_Gather", PMPI_Gather(s, sn, st, r, rn, rt, root, c));
}
int MPI_Gatherv(const void* s, int sn, MPI_Datatype st, void* r, const int* rn, const int* displs,
                MPI_Datatype rt, int root, MPI_Comm c) {
    TIMED("MPI_Gatherv", PMPI_Gatherv(s, sn, st, r, rn, displs, rt, root, c));
}
int MPI_Alltoall(const void* s, int sn, MPI_Datatype st, void* r, int rn, MPI_Datatype rt,
                 MPI_Comm c) {
    TIMED("MPI_Alltoall", PMPI_Alltoall(s, sn, st, r, rn, rt, c));
}
int MPI_Alltoallv(const void* s, const int* sn, const int* sd, MPI_Datatype st, void* r,
                  const int* rn, const int* rd, MPI_Datatype rt, MPI_Comm c) {
    TIMED("MPI_Alltoallv", PMPI_Alltoallv(s, sn, sd, st, r, rn, rd, rt, c));
}
int MPI_Scan(const void* s, void* r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c) {
    TIMED("MPI_Scan", PMPI_Scan(s, r, n, t, op, c));
}
int MPI_Exscan(const void* s, void* r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c) {
    TIMED("MPI_Exscan", PMPI_Exscan(s, r, n, t, op, c));
}
int MPI_Comm_split(MPI_Comm c, int color, int key, MPI_Comm* out) {
    TIMED("MPI_Comm_split", PMPI_Comm_split(c, color, key, out));
}
int MPI_Comm_dup(MPI_Comm c, MPI_Comm* out) { TIMED("MPI_Comm_dup", PMPI_Comm_dup(c, out)); }
int MPI_Send(const void* b, int n, MPI_Datatype t, int dest, int tag, MPI_Comm c) {
    TIMED("MPI_Send", PMPI_Send(b, n, t, dest, tag, c));
}
int MPI_Recv(void* b, int n, MPI_Datatype t, int src, int tag, MPI_Comm c, MPI_Status* st) {
    TIMED("MPI_Recv", PMPI_Recv(b, n, t, src, tag, c, st));
}
int MPI_Sendrecv(const void* sb, int sn, MPI_Datatype st, int dest, int stag, void* rb, int rn,
                 MPI_Datatype rt, int src, int rtag, MPI_Comm c, MPI_Status* status) {
    TIMED("MPI_Sendrecv",
          PMPI_Sendrecv(sb, sn, st, dest, stag, rb, rn, rt, src, rtag, c, status));
}
int MPI_Wait(MPI_Request* r, MPI_Status* st) { TIMED("MPI_Wait", PMPI_Wait(r, st)); }
int MPI_Waitall(int n, MPI_Request* r, MPI_Status* st) {
    TIMED("MPI_Waitall", PMPI_Waitall(n, r, st));
}
/* MPI-IO (the HDF5 output): reported apart from communication. */
int MPI_File_write_at_all(MPI_File f, MPI_Offset o, const void* b, int n, MPI_Datatype t,
                          MPI_Status* st) {
    TIMED("io:MPI_File_write_at_all", PMPI_File_write_at_all(f, o, b, n, t, st));
}
int MPI_File_write_at(MPI_File f, MPI_Offset o, const void* b, int n, MPI_Datatype t,
                      MPI_Status* st) {
    TIMED("io:MPI_File_write_at", PMPI_File_write_at(f, o, b, n, t, st));
}
int MPI_File_read_at_all(MPI_File f, MPI_Offset o, void* b, int n, MPI_Datatype t,
                         MPI_Status* st) {
    TIMED("io:MPI_File_read_at_all", PMPI_File_read_at_all(f, o, b, n, t, st));
}
int MPI_File_read_at(MPI_File f, MPI_Offset o, void* b, int n, MPI_Datatype t, MPI_Status* st) {
    TIMED("io:MPI_File_read_at", PMPI_File_read_at(f, o, b, n, t, st));
}
int MPI_File_set_view(MPI_File f, MPI_Offset o, MPI_Datatype e, MPI_Datatype t, const char* rep,
                      MPI_Info info) {
    TIMED("io:MPI_File_set_view", PMPI_File_set_view(f, o, e, t, rep, info));
}
int MPI_File_sync(MPI_File f) { TIMED("io:MPI_File_sync", PMPI_File_sync(f)); }
int MPI_File_set_size(MPI_File f, MPI_Offset s) {
    TIMED("io:MPI_File_set_size", PMPI_File_set_size(f, s));
}
int MPI_File_get_size(MPI_File f, MPI_Offset* s) {
    TIMED("io:MPI_File_get_size", PMPI_File_get_size(f, s));
}

int MPI_Finalize(void) {
    int rank = 0;
    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const double total = PMPI_Wtime() - t_init;
    FILE* out = stderr;
    const char* base = getenv("MPI_TIME_OUT");
    char path[4096];
    if (base && *base) {
        snprintf(path, sizeof path, "%s.%d", base, rank);
        FILE* f = fopen(path, "w");
        if (f)
            out = f;
    }
    fprintf(out, "{\"rank\": %d, \"function\": \"total_since_init\", \"seconds\": %.6f}\n", rank,
            total);
    for (int i = 0; i < used; ++i)
        fprintf(out, "{\"rank\": %d, \"function\": \"%s\", \"calls\": %ld, \"seconds\": %.6f}\n",
                rank, names[i], calls[i], seconds[i]);
    if (out != stderr)
        fclose(out);
    return PMPI_Finalize();
}
