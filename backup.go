package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"unionbot/config"
	"unionbot/storage"
)

// cmdBackup writes a consistent copy of the embedded database to FILE, also
// while the bot is serving. With MySQL it points to the database's own tools.
func cmdBackup(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("backup", flag.ContinueOnError)
	fset.SetOutput(stderr)
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() != 1 {
		return usageError{"backup needs exactly one FILE, the copy to write (it must not exist yet)"}
	}
	dest := fset.Arg(0)
	if cfg.MySQLDSN != "" {
		return errors.New("数据库是 MySQL，请用数据库自己的工具备份（mysqldump --single-transaction 或 mariabackup），" +
			"并另外妥善保管 UNIONBOT_SECRET_KEY\n" +
			"  the database is MySQL: back it up with its own tools (mysqldump --single-transaction, or mariabackup), " +
			"and keep UNIONBOT_SECRET_KEY safe beside that backup")
	}
	start := time.Now()
	size, err := storage.BackupEmbedded(ctx, cfg.DataDir, dest)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s 已存在，不会覆盖，请换一个文件名 / %s exists and is not overwritten: choose a new file name", dest, dest)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("数据目录 %s 中没有数据库（UNIONBOT_DATA_DIR 设对了吗？）/ no embedded database in %s (is UNIONBOT_DATA_DIR right?)",
			cfg.DataDir, cfg.DataDir)
	case err != nil:
		return err
	}

	key := filepath.Join(cfg.DataDir, config.SecretKeyFile)
	if cfg.SecretKey != nil {
		key = "UNIONBOT_SECRET_KEY（环境变量 / the environment variable）"
	} else if _, err := os.Stat(key); err != nil {
		key += "（未找到！/ not found!）"
	}
	fmt.Fprintf(stdout, `备份完成 / backup written: %[1]s (%.1[2]f MB, 用时 %.1[3]f 秒)
请把密钥和备份一起妥善保管（分开存放更安全）/ keep the secret key safe with this backup:
  %[4]s
  没有这把密钥，备份中加密的姓名、身份证号和手机号无法读取。
  without that key the encrypted names, ID numbers and phones in the backup cannot be read.
恢复 / restore: 停止服务，把备份复制为 %[5]s，放回同一把密钥，再启动
  stop the bot, copy the backup to %[5]s, keep the same key, start it (README.md, "Backup and restore")
`, dest, float64(size)/(1<<20), time.Since(start).Seconds(), key, filepath.Join(cfg.DataDir, storage.EmbeddedFile))
	return nil
}
