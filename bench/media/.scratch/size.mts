import { makeJpeg } from "../image.ts"
for (const noise of [2.6, 2.7, 2.8, 3]) console.log(noise, (await makeJpeg({ width: 5000, height: 4000, quality: 95, noise }, "/tmp/mbx/s.jpg")).bytes)
