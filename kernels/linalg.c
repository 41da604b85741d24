/*
 * kernels/linalg.c — Cholesky inverse and Jacobi eigen-decomposition of small symmetric
 * matrices. See linalg.h for why these are not LAPACK calls.
 */
#include "kernels/linalg.h"

#include <float.h>
#include <math.h>

#define JACOBI_MAX_SWEEPS 60

/* ---- Inverse of a symmetric positive definite matrix ---------------------------------- */

int sgs_linalg_spd_inverse(double *a, size_t n, double *work)
{
    if (!a || !work || n == 0)
        return SGS_EINVAL;
    double *u = work; /* upper triangle: the Cholesky factor U, A = U^T U */
    for (size_t j = 0; j < n; j++) {
        double s = a[j * n + j];
        for (size_t k = 0; k < j; k++)
            s -= u[k * n + j] * u[k * n + j];
        /* A NaN or infinity anywhere in the upper triangle reaches some pivot: a[j][i] enters
         * u[j][i], which enters pivot i. */
        if (!(s > 0.0) || !isfinite(s))
            return SGS_ENUMERIC;
        double d = sqrt(s);
        u[j * n + j] = d;
        for (size_t i = j + 1; i < n; i++) {
            double t = a[j * n + i];
            for (size_t k = 0; k < j; k++)
                t -= u[k * n + j] * u[k * n + i];
            u[j * n + i] = t / d;
        }
    }
    /* R = U^-1, upper triangular, column by column from R U = I, into the upper triangle of a. */
    for (size_t j = 0; j < n; j++) {
        double d = u[j * n + j];
        for (size_t i = 0; i < j; i++) {
            double t = 0.0;
            for (size_t k = i; k < j; k++)
                t += a[i * n + k] * u[k * n + j];
            a[i * n + j] = -t / d;
        }
        a[j * n + j] = 1.0 / d;
    }
    /* A^-1 = R R^T: (i, j) = sum over k >= max(i, j) of R[i][k] R[j][k]; into work, then back. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            double t = 0.0;
            for (size_t k = j; k < n; k++)
                t += a[i * n + k] * a[j * n + k];
            work[i * n + j] = t;
        }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            a[i * n + j] = a[j * n + i] = work[i * n + j];
    return SGS_OK;
}

/* ---- Symmetric eigen-decomposition by cyclic Jacobi ----------------------------------- */

/* One Jacobi rotation in the (p, q) plane, p < q, chosen to zero m[p][q] (Golub & Van Loan
 * Alg. 8.5.1): tau = (m_qq - m_pp) / (2 m_pq), t = tan(theta) the root of t^2 + 2 tau t - 1 = 0
 * of smaller magnitude (|theta| <= pi/4, which is what makes the cyclic method converge),
 * c = 1 / sqrt(1 + t^2), s = t c. m <- J^T m J and v <- v J, J the identity with
 * J_pp = J_qq = c, J_pq = s, J_qp = -s. */
static void jacobi_rotate(double *m, double *v, size_t n, size_t p, size_t q)
{
    double mpq = m[p * n + q];
    double tau = (m[q * n + q] - m[p * n + p]) / (2.0 * mpq);
    double t = (tau >= 0.0 ? 1.0 : -1.0) / (fabs(tau) + hypot(1.0, tau));
    double c = 1.0 / sqrt(1.0 + t * t), s = t * c;
    /* The diagonal by its update formula (exact in exact arithmetic, smaller rounding than
     * forming c^2 m_pp - 2cs m_pq + s^2 m_qq). */
    m[p * n + p] -= t * mpq;
    m[q * n + q] += t * mpq;
    m[p * n + q] = m[q * n + p] = 0.0;
    for (size_t r = 0; r < n; r++) {
        if (r != p && r != q) {
            double mrp = m[r * n + p], mrq = m[r * n + q];
            m[r * n + p] = m[p * n + r] = c * mrp - s * mrq;
            m[r * n + q] = m[q * n + r] = s * mrp + c * mrq;
        }
        double vrp = v[r * n + p], vrq = v[r * n + q];
        v[r * n + p] = c * vrp - s * vrq;
        v[r * n + q] = s * vrp + c * vrq;
    }
}

int sgs_linalg_symmetric_eigen(double *a, size_t n, double *w, double *work)
{
    if (!a || !w || !work || n == 0)
        return SGS_EINVAL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            if (!isfinite(a[i * n + j]))
                return SGS_EDATA;
    double *m = work; /* the matrix being diagonalized, both triangles */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            m[i * n + j] = m[j * n + i] = a[i * n + j];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            a[i * n + j] = i == j ? 1.0 : 0.0; /* v, the product of the rotations */
    /* A rotation is skipped when |m_pq| <= eps sqrt(|m_pp m_qq|): the entry is then below the
     * rounding of the diagonal it would change (the relative criterion of Demmel & Veselić,
     * which keeps small eigenvalues accurate). The sweeps stop when one rotates nothing. */
    int rotated = 1;
    for (int sweep = 0; rotated; sweep++) {
        if (sweep == JACOBI_MAX_SWEEPS)
            return SGS_ENUMERIC;
        rotated = 0;
        for (size_t p = 0; p + 1 < n; p++)
            for (size_t q = p + 1; q < n; q++) {
                double mpq = fabs(m[p * n + q]);
                if (mpq == 0.0 ||
                    mpq <= DBL_EPSILON * sqrt(fabs(m[p * n + p])) * sqrt(fabs(m[q * n + q])))
                    continue;
                jacobi_rotate(m, a, n, p, q);
                rotated = 1;
            }
    }
    for (size_t i = 0; i < n; i++) {
        w[i] = m[i * n + i];
        if (!isfinite(w[i]))
            return SGS_ENUMERIC;
    }
    /* Ascending, stable: insertion sort by adjacent swaps of values and of v's columns (only a
     * strictly greater value moves, so ties keep their order; n is small). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && w[j - 1] > w[j]; j--) {
            double t = w[j - 1];
            w[j - 1] = w[j];
            w[j] = t;
            for (size_t r = 0; r < n; r++) {
                t = a[r * n + j - 1];
                a[r * n + j - 1] = a[r * n + j];
                a[r * n + j] = t;
            }
        }
    return SGS_OK;
}
