// The console's script: live status, publishing, look-up and admin, each on its own.
import { setUpAdmin } from "./admin.ts";
import { followStatus } from "./live-status.ts";
import { setUpLookup } from "./lookup.ts";
import { setUpPublishing } from "./publish.ts";

followStatus();
setUpPublishing();
setUpLookup();
setUpAdmin();
