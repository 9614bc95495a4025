// The TERRAPIX GDAL raster driver: a thin C++ shim that serves the blocks of a prediction job
// (a `.tpx` JSON file, see gdal-vrt/README.md) computed by the Rust core. GDAL 3.6 gives a C
// pixel function neither its window's offset nor a halo; a driver is asked for whole blocks by
// offset, and the Rust side reads each block's covariates with the halo the model needs.
//
// All logic lives in Rust (src/gdal_plugin/driver.rs); this file only adapts it to GDAL's C++
// dataset and band classes. One inference yields every output band of a block: the band that
// was asked fills its siblings' cached blocks, so a multi-band read predicts once. A dataset
// serves one request at a time (a recursive mutex): hosts that read one dataset from several
// threads get correct values, never a sibling block that another thread is still filling.

#include "gdal_priv.h"
#include "gdal_version.h"
#include "cpl_error.h"
#include "ogr_spatialref.h"

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

// The Rust exports, as cbindgen generates them from src/gdal_plugin/driver.rs.
#include "terrapix_driver.h"

namespace {

constexpr int kBlock = 256;

// The CPLE number that fits a terrapix status (a missing file, an untrusted model...).
CPLErrorNum ErrorNumber(TpxStatus status) {
    switch (status) {
        case TPX_NOT_FOUND: return CPLE_OpenFailed;
        case TPX_INVALID_ARGUMENT: return CPLE_IllegalArg;
        case TPX_UNTRUSTED: return CPLE_NotSupported;
        case TPX_WRITE_FAILED: return CPLE_FileIO;
        case TPX_CANCELLED: return CPLE_UserInterrupt;
        default: return CPLE_AppDefined;
    }
}

class TerrapixBand;

class TerrapixDataset final : public GDALDataset {
    friend class TerrapixBand;
    TpxJob *job_ = nullptr;
    std::recursive_mutex mutex_;
    double geotransform_[6] = {0, 1, 0, 0, 0, 1};
    OGRSpatialReference srs_;

  public:
    ~TerrapixDataset() override {
        if (job_ != nullptr) tpx_job_close(job_);
    }
    static int Identify(GDALOpenInfo *info) {
        return tpx_job_identify(info->pszFilename, info->pabyHeader, info->nHeaderBytes);
    }
    static GDALDataset *Open(GDALOpenInfo *info);
#if GDAL_VERSION_NUM >= GDAL_COMPUTE_VERSION(3, 12, 0)
    // GDAL 3.12 passes a GDALGeoTransform (six doubles in the same order) instead of a double[6].
    CPLErr GetGeoTransform(GDALGeoTransform &out) const override {
        for (int i = 0; i < 6; i++) out[i] = geotransform_[i];
        return CE_None;
    }
#else
    CPLErr GetGeoTransform(double *out) override {
        std::memcpy(out, geotransform_, sizeof(geotransform_));
        return CE_None;
    }
#endif
    const OGRSpatialReference *GetSpatialRef() const override { return srs_.IsEmpty() ? nullptr : &srs_; }
    // Predicts block (bx, by) of every band; `wanted` (1-based) receives its plane in `image`.
    CPLErr PredictBlock(int bx, int by, int wanted, void *image);
    // Predicts, in parallel, the uncached blocks a read of this window will need.
    CPLErr Prefetch(int x, int y, int width, int height);
    CPLErr IRasterIO(GDALRWFlag rw, int x, int y, int w, int h, void *data, int bw, int bh, GDALDataType type, int band_count,
                     int *band_map, GSpacing pixel_space, GSpacing line_space, GSpacing band_space,
                     GDALRasterIOExtraArg *extra) override {
        std::lock_guard<std::recursive_mutex> lock(mutex_);
        if (rw == GF_Read && Prefetch(x, y, w, h) != CE_None) return CE_Failure;
        return GDALDataset::IRasterIO(rw, x, y, w, h, data, bw, bh, type, band_count, band_map, pixel_space, line_space,
                                      band_space, extra);
    }

  private:
    // Copies plane `b` of a w x h prediction into a kBlock x kBlock block buffer, padding.
    void FillBlock(const float *planes, int w, int h, int b, float *dst);
    // Puts the planes of a w x h prediction into the cached blocks of every band but `skip`.
    void CacheBlock(const float *planes, int bx, int by, int w, int h, int skip);
};

class TerrapixBand final : public GDALRasterBand {
    float nodata_;

  public:
    TerrapixBand(TerrapixDataset *ds, int band, float nodata) : nodata_(nodata) {
        poDS = ds;
        nBand = band;
        eDataType = GDT_Float32;
        nBlockXSize = kBlock;
        nBlockYSize = kBlock;
        SetDescription(tpx_job_band_description(ds->job_, band));
    }
    CPLErr IReadBlock(int bx, int by, void *image) override {
        auto *ds = static_cast<TerrapixDataset *>(poDS);
        std::lock_guard<std::recursive_mutex> lock(ds->mutex_);
        return ds->PredictBlock(bx, by, nBand, image);
    }
    CPLErr IRasterIO(GDALRWFlag rw, int x, int y, int w, int h, void *data, int bw, int bh, GDALDataType type,
                     GSpacing pixel_space, GSpacing line_space, GDALRasterIOExtraArg *extra) override {
        auto *ds = static_cast<TerrapixDataset *>(poDS);
        std::lock_guard<std::recursive_mutex> lock(ds->mutex_);
        if (rw == GF_Read && ds->Prefetch(x, y, w, h) != CE_None) return CE_Failure;
        return GDALRasterBand::IRasterIO(rw, x, y, w, h, data, bw, bh, type, pixel_space, line_space, extra);
    }
    double GetNoDataValue(int *success) override {
        if (success != nullptr) *success = TRUE;
        return nodata_;
    }
    const char *GetUnitType() override {
        return tpx_job_band_unit(static_cast<TerrapixDataset *>(poDS)->job_, nBand);
    }
};

GDALDataset *TerrapixDataset::Open(GDALOpenInfo *info) {
    if (!Identify(info)) return nullptr;
    if (info->eAccess == GA_Update) {
        CPLError(CE_Failure, CPLE_NotSupported, "TERRAPIX: prediction jobs are read-only");
        return nullptr;
    }
    char err[2048] = {0};
    TpxJob *job = nullptr;
    const TpxStatus status = tpx_job_open(info->pszFilename, &job, err, sizeof(err));
    if (status != TPX_OK || job == nullptr) {
        CPLError(CE_Failure, ErrorNumber(status), "TERRAPIX: %s", err);
        return nullptr;
    }
    auto *ds = new TerrapixDataset();
    ds->job_ = job;
    int width = 0, height = 0, bands = 0;
    float nodata = 0;
    tpx_job_shape(job, &width, &height, &bands, ds->geotransform_, &nodata);
    ds->nRasterXSize = width;
    ds->nRasterYSize = height;
    const char *wkt = tpx_job_wkt(job);
    if (wkt != nullptr && wkt[0] != '\0') {
        ds->srs_.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        ds->srs_.importFromWkt(wkt);
    }
    for (int b = 1; b <= bands; b++) ds->SetBand(b, new TerrapixBand(ds, b, nodata));
    ds->SetDescription(info->pszFilename);
    return ds;
}

void TerrapixDataset::FillBlock(const float *planes, int w, int h, int b, float *dst) {
    const float pad = static_cast<float>(GetRasterBand(b)->GetNoDataValue(nullptr));
    for (int row = 0; row < kBlock; row++) {
        float *line = dst + static_cast<size_t>(row) * kBlock;
        if (row < h) {
            std::memcpy(line, planes + (static_cast<size_t>(b - 1) * h + row) * w, sizeof(float) * w);
            std::fill(line + w, line + kBlock, pad);
        } else {
            std::fill(line, line + kBlock, pad);
        }
    }
}

void TerrapixDataset::CacheBlock(const float *planes, int bx, int by, int w, int h, int skip) {
    for (int b = 1; b <= nBands; b++) {
        if (b == skip) continue;
        GDALRasterBand *band = GetRasterBand(b);
        GDALRasterBlock *block = band->TryGetLockedBlockRef(bx, by);
        if (block != nullptr) {  // already cached
            block->DropLock();
            continue;
        }
        block = band->GetLockedBlockRef(bx, by, TRUE);
        if (block == nullptr) continue;
        FillBlock(planes, w, h, b, static_cast<float *>(block->GetDataRef()));
        block->DropLock();
    }
}

CPLErr TerrapixDataset::PredictBlock(int bx, int by, int wanted, void *image) {
    const int x = bx * kBlock, y = by * kBlock;
    const int w = std::min(kBlock, nRasterXSize - x), h = std::min(kBlock, nRasterYSize - y);
    std::vector<float> planes(static_cast<size_t>(nBands) * w * h);
    char err[2048] = {0};
    const TpxStatus status = tpx_job_read(job_, x, y, w, h, planes.data(), err, sizeof(err));
    if (status != TPX_OK) {
        CPLError(CE_Failure, ErrorNumber(status), "TERRAPIX: %s", err);
        return CE_Failure;
    }
    FillBlock(planes.data(), w, h, wanted, static_cast<float *>(image));
    CacheBlock(planes.data(), bx, by, w, h, wanted);
    return CE_None;
}

CPLErr TerrapixDataset::Prefetch(int x, int y, int width, int height) {
    constexpr int kBatch = 16;  // blocks predicted together: bounds the temporary buffer
    std::vector<int> xs, ys;
    GDALRasterBand *first = GetRasterBand(1);
    for (int by = y / kBlock; by <= (y + height - 1) / kBlock; by++) {
        for (int bx = x / kBlock; bx <= (x + width - 1) / kBlock; bx++) {
            GDALRasterBlock *block = first->TryGetLockedBlockRef(bx, by);
            if (block != nullptr) {
                block->DropLock();
                continue;
            }
            xs.push_back(bx);
            ys.push_back(by);
        }
    }
    if (xs.size() < 2) return CE_None;  // a single block is predicted by IReadBlock
    const size_t per_block = static_cast<size_t>(nBands) * kBlock * kBlock;
    for (size_t start = 0; start < xs.size(); start += kBatch) {
        const int count = static_cast<int>(std::min<size_t>(kBatch, xs.size() - start));
        std::vector<float> planes(per_block * count);
        char err[2048] = {0};
        const TpxStatus status =
            tpx_job_read_blocks(job_, count, xs.data() + start, ys.data() + start, kBlock, planes.data(), err, sizeof(err));
        if (status != TPX_OK) {
            CPLError(CE_Failure, ErrorNumber(status), "TERRAPIX: %s", err);
            return CE_Failure;
        }
        for (int i = 0; i < count; i++) {
            const int bx = xs[start + i], by = ys[start + i];
            const int w = std::min(kBlock, nRasterXSize - bx * kBlock), h = std::min(kBlock, nRasterYSize - by * kBlock);
            CacheBlock(planes.data() + per_block * i, bx, by, w, h, 0);
        }
    }
    return CE_None;
}

}  // namespace

// Registers the TERRAPIX driver once per process.
extern "C" void tpx_register_gdal_driver(void) {
    if (GDALGetDriverByName("TERRAPIX") != nullptr) return;
    auto *driver = new GDALDriver();
    driver->SetDescription("TERRAPIX");
    driver->SetMetadataItem(GDAL_DCAP_RASTER, "YES");
    driver->SetMetadataItem(GDAL_DMD_LONGNAME, "terrapix on-the-fly model prediction");
    driver->SetMetadataItem(GDAL_DMD_EXTENSION, "tpx");
    driver->SetMetadataItem(GDAL_DMD_HELPTOPIC, "https://github.com/terrapix/terrapix/tree/main/gdal-vrt");
    driver->SetMetadataItem(GDAL_DCAP_VIRTUALIO, "YES");
    driver->pfnOpen = TerrapixDataset::Open;
    driver->pfnIdentify = TerrapixDataset::Identify;
    GetGDALDriverManager()->RegisterDriver(driver);
}
