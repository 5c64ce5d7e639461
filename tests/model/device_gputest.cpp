// gpu label: runs where a CUDA GPU is present, skips elsewhere.
#include <gtest/gtest.h>

#include "model/device.hpp"
#include "support/test_support.hpp"

TEST(Gpu, DeviceIsVisibleAndHopperOrNewer) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  auto devs = dsv3::model::cuda_devices();
  ASSERT_FALSE(devs.empty());
  EXPECT_GT(devs[0].sm_count, 0);
  EXPECT_GE(devs[0].cc_major, 9) << devs[0].name;
}
