// Stand-in when dlk is built without ITK (DLK_WITH_ITK=OFF, e.g. on the GPU machine).
#include "dlk/core/error.h"
#include "dlk/io/volume.h"

namespace dlk {

static const char* kNoItk = "dlk was built without ITK (DLK_WITH_ITK=OFF): it cannot read or write "
                            "NIfTI, NRRD or MetaImage volumes";

Volume read_volume(const std::string& path, const std::string&) { fail(path, kNoItk); }
void write_volume(const std::string& path, const Geometry&, const float*, VoxelType) { fail(path, kNoItk); }
StagedVolume::StagedVolume(const std::string& path, const Geometry&, const float*, VoxelType) { fail(path, kNoItk); }
StagedVolume::~StagedVolume() = default;
void StagedVolume::commit() {}
void check_volume_file(const std::string&) {} // nothing reads volumes without ITK

} // namespace dlk
