/*
 * fuzz/fuzz_support.h — what the libFuzzer targets share: input files in memory that
 * readers taking a path can open, a scratch folder in memory for outputs, and a check that
 * fails loudly.
 *
 * The readers under test (io/h5_input.h, engine/config.h, io/csv_import.h) take paths, and
 * their files are owned by other work in progress, so the targets do not add buffer entry
 * points to them. Instead each input is written to a file in a private folder under
 * /dev/shm (memory: nothing touches a disk) and the reader is given its path: the code
 * path is exactly the one a real file takes (stat, access, open, HDF5's sec2 driver).
 * A memfd's /proc/self/fd/N path does not do: HDF5 resolves the link to the file's real
 * name ("/memfd:x (deleted)") and fails. The file is opened once per process and
 * rewritten for every input.
 */
#ifndef SGS_FUZZ_SUPPORT_H
#define SGS_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sgs_fuzz_file {
    int fd;         /* open for writing, -1 before the first use */
    char path[320]; /* <scratch folder>/<name> */
} sgs_fuzz_file_t;

/* Replace the contents of *f with `size` bytes of `data` (creating the file `name` in the
 * scratch folder on first use; it is removed at exit). Aborts when the file cannot be made
 * or written: that is the harness failing, not the code under test. Returns f->path. */
const char *sgs_fuzz_file_set(sgs_fuzz_file_t *f, const char *name, const uint8_t *data,
                              size_t size);

/* A private folder for inputs and outputs, made once per process under /dev/shm (memory)
 * when it is usable, else under $TMPDIR or /tmp, and removed at exit (with the files of
 * sgs_fuzz_file_set; anything else left in it keeps it). */
const char *sgs_fuzz_scratch_dir(void);

/* An empty folder "out" inside the scratch folder, for outputs (so that what a run leaves
 * behind can be listed apart from the input files); removed at exit when empty. */
const char *sgs_fuzz_output_dir(void);

/* Abort with a message when `cond` is false. The targets use it for properties the code
 * promises (a differential or a round trip that disagrees); the abort makes libFuzzer keep
 * the input as a crash. Independent of NDEBUG. */
#define SGS_FUZZ_CHECK(cond, ...)                                                                  \
    do {                                                                                           \
        if (!(cond))                                                                               \
            sgs__fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                \
    } while (0)
void sgs__fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

/* libFuzzer's entry points (declared here for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
