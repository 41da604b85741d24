/*
 * io/h5_guard.h — refuse a hostile or broken HDF5 input before a byte of its data is read.
 *
 * One concern: may this file, this link path, this dataset be read as a column of the input
 * schema (docs/input.md "Input schema")? The reader (io/h5_reader_open.c) asks before it opens a
 * group or a dataset and before its first H5Dread; `segscore inspect` gets the same answers through
 * the reader and lists objects without following links out of the file.
 *
 * What is refused, and why (docs/input.md "Input validation rules" has the messages):
 * - links that leave the file: an external link, a user-defined link, or a soft link whose
 *   target is reached through one. A run reads the file it was given, nothing else (an
 *   external link may name /etc/passwd, a FIFO that blocks forever, or another HDF5 file).
 * - data stored outside the file: virtual datasets (rows mapped from other datasets or
 *   files) and external storage (H5Pset_external: raw bytes of any file used as values).
 * - element types outside the column's rule: the wrong class (a string or an enum where an
 *   integer belongs, an integer amount) or wider than the widest type the column accepts.
 *   libhdf5 converts any width, and its conversion of an integer of 65,544 bytes reads past
 *   its buffers (ASan, H5VM_memcpyvv); nothing wider than 8 bytes is ever passed to it.
 *   Nor a type whose declared bits do not fit in its own bytes: an integer or a float whose
 *   precision plus bit offset exceeds 8 x its size (an 8-byte integer of 198 bits), or a
 *   float whose sign, exponent or mantissa field lies beyond its bytes. libhdf5 decodes such
 *   a header as it is, and its conversion then reads the bits beside each element: a row's
 *   value would depend on its neighbours (fuzzing, regressions/int-precision-198-bits.h5).
 * - filters this libhdf5 cannot decode (H5Zfilter_avail, or a filter built encode-only):
 *   named with their id and name, refused before a read fails half-way. An optional filter
 *   (H5Z_FLAG_OPTIONAL) is refused only when a stored chunk went through it: a writer that
 *   lacked it too skipped it, and its chunks' filter masks say so.
 * - data that was never written: a contiguous dataset without storage, or a chunked dataset
 *   with fewer chunks stored than its extent needs (H5Dget_num_chunks). Unwritten chunks
 *   read as the fill value, zeros by default: silent fake transactions.
 * - chunks that decode to another size than their chunk's (elements x element size):
 *   libhdf5 1.10.8 copies the rows a short chunk lacks from beyond the end of its own buffer
 *   and succeeds (ASan: H5VM_memcpyvv under H5D__select_read; fuzzing,
 *   regressions/over-read-in-h5vm-memcpyvv.h5, a chunk whose filter mask says it is stored
 *   unfiltered, in 13 bytes of 40). A chunk stored without its filters is sized from the
 *   index; a filtered one through deflate, shuffle and Fletcher-32 is read raw and decoded
 *   to count its bytes (h5_decoded_size.h), which also stops a decompression bomb at its
 *   chunk's size. Other filters (szip, n-bit, scale-offset, plugins) are decoded by libhdf5
 *   on the read, unchecked. A caller that decodes the chunks itself (the reader, for shuffle
 *   and deflate: io/h5_chunk_decode.h) has the count made on that decode instead
 *   (sgs_h5_guard_dataset_deferring), so that the input is decoded once; otherwise the
 *   count is a second decode of the input (docs/input.md has the figures).
 * - declared sizes beyond the storage: a contiguous or compact dataset whose storage is
 *   smaller than its extent times its element size (libhdf5 reads past a compact buffer
 *   that is: the over-read of issue 13 item 5, a fuzzed element size over a compact
 *   channel column; contiguous, the rows past the storage come out of a stale buffer:
 *   regressions/contiguous-storage-short.h5), or contiguous data that reaches past the
 *   end of the file. (A chunk
 *   address past the end is caught by libhdf5 on the read, against the end-of-file address
 *   that the open checked against the file's size; sgs_h5_guard_read_failure calls it
 *   malformed.) A huge declared extent with few chunks stored is "never written".
 * - at open: a truncated file (the superblock's end-of-file address beyond the file's size),
 *   a file locked by a writer (HDF5 file locking) or marked open for writing in its
 *   superblock (exit 75: retry later), and other open failures by their HDF5 cause (65 for
 *   a malformed file, 74 only for an operating-system I/O error).
 *
 * Thread-safety: HDF5 (serial build) is not thread-safe; call from one thread at a time.
 */
#ifndef SGS_H5_GUARD_H
#define SGS_H5_GUARD_H

#include "io/h5_decoded_size.h"
#include "kernels/core.h"

#include <hdf5.h>
#include <stddef.h>

typedef enum sgs_h5_refusal_kind {
    SGS_H5_REFUSE_FILE,    /* the file as a whole: truncated, locked, malformed, I/O */
    SGS_H5_REFUSE_LINK,    /* an external or user-defined link, or a soft link through one */
    SGS_H5_REFUSE_STORAGE, /* virtual, external storage, never written, beyond the file */
    SGS_H5_REFUSE_FILTER,  /* a filter this libhdf5 cannot decode */
    SGS_H5_REFUSE_TYPE     /* element class or width outside the column's rule */
} sgs_h5_refusal_kind_t;

typedef struct sgs_h5_refusal {
    int code;                   /* SGS_EDATA, SGS_ETEMPFAIL, SGS_EIO or SGS_ENOMEM; 0: none */
    sgs_h5_refusal_kind_t kind; /* what kind of refusal (meaningful when code != 0) */
    char text[640];             /* what is wrong, without the file and dataset names */
} sgs_h5_refusal_t;

/* The element classes a dataset may have. */
typedef enum sgs_h5_classes {
    SGS_H5_INTEGERS, /* H5T_INTEGER only */
    SGS_H5_FLOATS,   /* H5T_FLOAT only */
    SGS_H5_NUMBERS   /* H5T_INTEGER or H5T_FLOAT: HDF5 converts either to the type read */
} sgs_h5_classes_t;

/* What a column accepts. */
typedef struct sgs_h5_column_rule {
    const char *name;         /* column name for messages: "channel" */
    sgs_h5_classes_t classes; /* element classes accepted */
    size_t max_bytes;         /* widest element accepted, 1..8 */
    const char *type_name;    /* the schema's type, for messages: "uint8" */
} sgs_h5_column_rule_t;

/* Why H5Fopen(path) just failed, from the HDF5 error stack (read, then cleared) and the
 * file's superblock: file locked by another process (HDF5 file locking), or marked open
 * for writing in a version-3 superblock -> SGS_ETEMPFAIL; truncated ("file truncated:
 * 400000 bytes, the superblock declares 802048") -> SGS_EDATA; an operating-system read
 * error -> SGS_EIO; out of memory -> SGS_ENOMEM; anything else (malformed metadata) ->
 * SGS_EDATA with HDF5's innermost message. Call right after the failed H5Fopen.
 * @return the code, also in why->code (kind SGS_H5_REFUSE_FILE). */
int sgs_h5_guard_open_failure(const char *path, sgs_h5_refusal_t *why);

/* Walk the links of `path` ("/transactions/amount") in `file` one component at a time,
 * without traversing any link before it is checked: hard links pass; a soft link is
 * resolved (relative targets against its group, at most 16 in a chain) and its target
 * walked the same way; an external or user-defined link is refused, naming its target.
 * A component that does not exist stops the walk with 0: the caller reports what is
 * missing. @return 0 or SGS_EDATA (why filled, kind SGS_H5_REFUSE_LINK). */
int sgs_h5_guard_path(hid_t file, const char *path, sgs_h5_refusal_t *why);

/* Check an open one- or two-dimensional dataset before any read: stored in `file` itself,
 * not virtual, no external storage, element class and width per `rule` and every declared
 * bit inside the element (precision + offset <= 8 x size; a float's fields too), every
 * filter decodable, and every byte of its extent written and inside the file (contiguous:
 * allocated, storage >= elements x element size, ending within the file; chunked: as many
 * chunks stored as the extent needs, else the first missing chunk's rows (and columns) are
 * named, each chunk inside the file and decoding to exactly chunk elements x element size;
 * compact: its buffer >= elements x element size). Metadata only, except that filtered
 * chunks are read raw and decoded (n_threads at a time) to learn their decoded size, which
 * the file does not record (io/h5_decoded_size.h). The caller checks the rank it wants
 * first; more than two dimensions are refused here.
 * @return 0, SGS_EDATA (why filled), SGS_ENOMEM, or SGS_EIO when HDF5 cannot describe the
 * dataset or read a chunk. */
int sgs_h5_guard_dataset(hid_t file, hid_t dset, const sgs_h5_column_rule_t *rule, int n_threads,
                         sgs_h5_refusal_t *why);

/* sgs_h5_guard_dataset for a caller that reads the chunks itself, raw (H5Dread_chunk), and
 * decodes every one of them through io/h5_chunk_decode.h instead of reading through H5Dread:
 * when that module decodes the dataset's pipeline (one dimension, shuffle and deflate or no
 * filter, chunks of at most SGS_H5_CHUNK_DECODE_MAX_BYTES) and every other check passed, the
 * filtered chunks are not decoded here (*deferred = 1): the caller's decode gives the same
 * findings and refuses a chunk with sgs_h5_guard_refuse_decoded, which names it as this
 * function would have. Otherwise *deferred = 0 and this is sgs_h5_guard_dataset. A caller
 * that ends up not decoding a deferred dataset (it stops, or falls back to H5Dread) runs
 * sgs_h5_guard_dataset on it first. */
int sgs_h5_guard_dataset_deferring(hid_t file, hid_t dset, const sgs_h5_column_rule_t *rule,
                                   int n_threads, int *deferred, sgs_h5_refusal_t *why);

/* The refusal sgs_h5_guard_dataset gives for the stored chunk at `offset` (its first element)
 * of the chunked dataset dset that decodes to `r` (`decoded` bytes when r is
 * SGS_H5_DECODED_OK) instead of the `want` its chunk needs: "rows 5..9 decode to 8 bytes, not
 * the 40 their chunk needs (chunk elements x element size): the chunk is damaged", kind
 * SGS_H5_REFUSE_STORAGE. @return why->code: SGS_EDATA, SGS_ENOMEM for NOMEM, SGS_EIO when
 * the dataset cannot be described. */
int sgs_h5_guard_refuse_decoded(hid_t dset, const hsize_t *offset, sgs_h5_decoded_t r,
                                size_t decoded, size_t want, sgs_h5_refusal_t *why);

/* The refusal sgs_h5_guard_dataset gives for a stored chunk that H5Dread_chunk failed to read
 * ("cannot read the stored chunk of rows 5..9: <HDF5's cause>"); call right after the failed
 * read (the HDF5 error stack is read, then cleared). @return why->code, by
 * sgs_h5_guard_read_failure. */
int sgs_h5_guard_refuse_chunk_read(hid_t dset, const hsize_t *offset, sgs_h5_refusal_t *why);

/* Human name of an element type: "int64", "uint8", "float64", "string", ...; widths beyond
 * 8 bytes spelled out ("65544-byte signed integers"). */
void sgs_h5_type_name(hid_t type, char *buf, size_t size);

/* Name of filter `id` for messages: the name the file stores when it has one, else a
 * known name ("deflate", "blosc", "zstd", ...), else "unknown". */
const char *sgs_h5_guard_filter_name(H5Z_filter_t id, const char *stored_name);

/* A dataset access property list (also good wherever a link access list is taken) on which
 * external links fail to traverse: the traversal callback refuses before any other file is
 * opened. The reader opens everything through it, behind sgs_h5_guard_path, and the object
 * listing too. The caller closes it with H5Pclose. @return the id, or < 0. */
hid_t sgs_h5_guard_dapl(void);

/* Classify the HDF5 error stack after a failed read (then clear it): a filter failure or
 * malformed storage -> SGS_EDATA, an operating-system I/O error -> SGS_EIO, out of
 * memory -> SGS_ENOMEM. `cause` gets HDF5's innermost message ("" when none). */
int sgs_h5_guard_read_failure(char *cause, size_t size);

#endif
