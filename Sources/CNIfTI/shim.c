#include "CNIfTI.h"

void cnifti_set_affine(nifti_image *nim, const double m[16], int sform_code, int qform_code) {
    nifti_dmat44 a = cnifti_mat_make(m);
    nim->sto_xyz = a;
    nim->sto_ijk = nifti_dmat44_inverse(a);
    nim->sform_code = sform_code;
    double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
    nifti_dmat44_to_quatern(a, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
    nim->quatern_b = qb; nim->quatern_c = qc; nim->quatern_d = qd;
    nim->qoffset_x = qx; nim->qoffset_y = qy; nim->qoffset_z = qz;
    nim->qfac = qfac;
    nim->qform_code = qform_code;
    nim->qto_xyz = nifti_quatern_to_dmat44(qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac);
    nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
    nim->dx = dx; nim->dy = dy; nim->dz = dz;
    nim->pixdim[1] = dx; nim->pixdim[2] = dy; nim->pixdim[3] = dz;
}
