// A measured expert-load file drives the routing: CSV, and HDF5 written by h5py.
#include <gtest/gtest.h>

#include "model/errors.hpp"
#include "sim/routing/popularity.hpp"
#include "support/test_support.hpp"

namespace routing = dsv3::sim::routing;
using dsv3::test::TempDir;
using dsv3::test::write_file;

TEST(RoutingMeasured, CsvRowsAreLayers) {
  TempDir dir;
  write_file(dir / "load.csv", "# layer x expert token counts\n1,3,0,4\n2,2,2,2\n");
  routing::RoutingSpec s;
  s.model = routing::PopularityKind::Measured;
  s.load_file = (dir / "load.csv").string();
  const routing::PopularityModel pop(s, 2, 4);
  EXPECT_EQ(pop.at(0), (std::vector<double>{0.125, 0.375, 0.0, 0.5}));
  EXPECT_EQ(pop.at(1), (std::vector<double>{0.25, 0.25, 0.25, 0.25}));
  // Errors name the file and where.
  write_file(dir / "bad.csv", "1,2,3,4\n1,x,3,4\n");
  s.load_file = (dir / "bad.csv").string();
  try {
    routing::PopularityModel bad(s, 2, 4);
    FAIL();
  } catch (const dsv3::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv: line 2, column 2"), std::string::npos) << e.what();
  }
  s.load_file = (dir / "load.csv").string();
  EXPECT_THROW(routing::PopularityModel(s, 3, 4), dsv3::InputError);  // 2 rows, 3 layers
  EXPECT_THROW(routing::PopularityModel(s, 2, 5), dsv3::InputError);  // 4 experts, 5 wanted
}

TEST(RoutingMeasured, Hdf5FromH5py) {
  TempDir dir;
  const auto path = (dir / "load.h5").string();
  const auto r = dsv3::test::run(
      {"/usr/bin/python3", "-c",
       "import h5py, numpy as np, sys\n"
       "f = h5py.File(sys.argv[1], 'w')\n"
       "f.create_dataset('routing/expert_load', data=np.array([[1, 3, 0, 4], [5, 5, 5, 5]], dtype='i8'))\n"
       "f.create_dataset('other', data=np.array([[1.0, 1.0, 2.0, 0.0]]))\n",
       path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = routing::read_expert_load(path);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], (std::vector<double>{1, 3, 0, 4}));
  m = routing::read_expert_load(path + ":/other");
  EXPECT_EQ(m[0], (std::vector<double>{1, 1, 2, 0}));
  EXPECT_THROW(routing::read_expert_load(path + ":/missing"), dsv3::InputError);
}
