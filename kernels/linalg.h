/*
 * kernels/linalg.h — the dense linear algebra segscore needs, on small matrices: the inverse
 * of a symmetric positive definite matrix (standard errors of a fit, n <= 4) and the
 * eigen-decomposition of a symmetric matrix (the PCA of the segment features, d <= 8).
 *
 * Why not LAPACK: on matrices this small a library brings nothing but risk. The OpenBLAS that
 * Debian ships as LAPACK starts a thread per core when it is loaded, before main(), and every
 * thread, the caller's included (dpotrf on a 4 x 4 matrix takes one), needs a 128 MB buffer;
 * under an address-space limit (ulimit -v) the allocation fails and OpenBLAS 0.3.21 retries it
 * forever (OpenMathLib/OpenBLAS#5289; upstream exits instead since #5303): `segscore --help`
 * hung at exit joining a worker, and a run spun in the Cholesky. These routines allocate
 * nothing, start no thread, and give the same bits on every machine.
 *
 * Matrices are row-major, n x n, contiguous. Serial and deterministic; thread-safe (no
 * state). Cost O(n^3) per call, O(n^3) per Jacobi sweep.
 */
#ifndef SGS_LINALG_H
#define SGS_LINALG_H

#include "kernels/core.h"

/* Invert a symmetric positive definite matrix in place: A = U^T U (Cholesky, Golub & Van Loan,
 * "Matrix Computations" 4th ed., Alg. 4.2.2, computed by rows of U), then
 * A^-1 = U^-1 U^-T with U^-1 by back substitution. Only the upper triangle of `a` is read (as
 * LAPACK's dpotrf with uplo 'U'); the whole matrix is written, symmetric.
 * a: n x n; work: n x n scratch (caller-owned, contents ignored and overwritten).
 * @return 0; SGS_ENUMERIC when a pivot is not > 0 or not finite (the matrix is not positive
 *         definite, or holds a NaN or an infinity): `a` is then unspecified; SGS_EINVAL when
 *         n == 0 or a pointer is NULL. */
int sgs_linalg_spd_inverse(double *a, size_t n, double *work);

/* Eigen-decomposition of a symmetric matrix by the cyclic Jacobi method (Golub & Van Loan,
 * Alg. 8.5.3, with Rutishauser's choice of the smaller rotation angle, Alg. 8.5.1): rotations
 * zero the off-diagonal entries row by row until off(A) <= eps ||A||_F (eps the double
 * epsilon), which takes a handful of sweeps for the matrices here (convergence is quadratic).
 * Jacobi computes small eigenvalues to high relative accuracy (Demmel & Veselić 1992), at least
 * as accurately as the QR and divide-and-conquer methods of LAPACK.
 * Only the upper triangle of `a` is read. On return w[0..n) holds the eigenvalues in
 * ascending order (ties keep their diagonal order) and column j of `a` the unit eigenvector of
 * w[j] (as LAPACKE_dsyevd, row-major, 'V'); signs are those the rotations give (callers that
 * need a convention impose it). work: n x n scratch.
 * @return 0; SGS_EDATA when an entry of the upper triangle is not finite (`a` unchanged);
 *         SGS_ENUMERIC when 60 sweeps did not converge (not seen for finite input);
 *         SGS_EINVAL when n == 0 or a pointer is NULL. */
int sgs_linalg_symmetric_eigen(double *a, size_t n, double *w, double *work);

#endif
